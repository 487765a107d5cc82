"""The event log's proof: append throughput with the hash chain beside the
same run without it, and offline verification of a large export beside
``sha256sum`` over the same bytes.

The baseline recorder is the production one with the chain step left out
(:class:`UnchainedRecorder`); both runs append the same commands to the same
database, interleaved (unchained, chained, unchained, chained) so that a
neighbour's load on the shared machine falls on both.
"""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench.throughput import STATE, event_store_rate
from infra.eventstore.log_verifier import (
    FORMAT,
    GENESIS,
    checkpoint_message,
    event_hash,
    public_keys,
    verify,
)
from infra.eventstore.recorders import FailFastRecorder
from infra.settings import Settings


class UnchainedRecorder(FailFastRecorder):
    """The production recorder without the hash chain (the baseline)."""

    _chaining = False


def append_rates(
    settings: Settings, writers: int, total: int, rounds: int = 2
) -> tuple[float, float]:
    """Best commands/s without and with the chain, interleaved."""
    without, with_chain = [], []
    unchained = {"APPLICATION_RECORDER_TOPIC": "bench.log_proof:UnchainedRecorder"}
    for _ in range(rounds):
        without.append(event_store_rate(settings, writers, total, unchained))
        with_chain.append(event_store_rate(settings, writers, total))
    return max(without), max(with_chain)


def write_export(path: Path, events: int, every: int = 1000) -> dict[str, Any]:
    """A one-tenant export of ``events`` events (the benchmark's payload), a
    checkpoint every ``every`` events; returns the keys document."""
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    payload = base64.b64encode(STATE).decode()
    meta = {
        "tenant_id": "bench",
        "actor_id": "bench",
        "correlation_id": "c",
        "causation_id": "c",
    }
    head = GENESIS
    with path.open("w") as out:
        header = {
            "kind": "log",
            "format": FORMAT,
            "tenant_id": "bench",
            "from_position": 1,
            "to_position": events,
            "previous_hash": GENESIS.hex(),
        }
        out.write(json.dumps(header) + "\n")
        for position in range(1, events + 1):
            aggregate = f"00000000-0000-4000-8000-{position:012d}"
            digest = event_hash(
                head,
                position,
                "bench",
                aggregate,
                1,
                "domain.organization:Organization.Registered",
                "2026-11-26T04:00:00.000000Z",
                STATE,
                meta,
            )
            line = {
                "kind": "event",
                "position": position,
                "tenant_id": "bench",
                "aggregate_id": aggregate,
                "version": 1,
                "type": "domain.organization:Organization.Registered",
                "recorded_at": "2026-11-26T04:00:00.000000Z",
                "payload": payload,
                "meta": meta,
                "previous_hash": head.hex(),
                "hash": digest.hex(),
            }
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
            head = digest
            if position % every == 0 or position == events:
                signature = key.sign(checkpoint_message("bench", position, head))
                checkpoint = {
                    "kind": "checkpoint",
                    "tenant_id": "bench",
                    "position": position,
                    "head": head.hex(),
                    "key_id": "bench",
                    "signature": base64.b64encode(signature).decode(),
                }
                out.write(json.dumps(checkpoint) + "\n")
    return {
        "keys": [
            {
                "key_id": "bench",
                "algorithm": "Ed25519",
                "public_key": base64.b64encode(raw).decode(),
            }
        ]
    }


def verify_rates(events: int) -> tuple[int, float, float, float]:
    """``(file bytes, verifier events/s, sha256sum events/s, seconds)``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.jsonl"
        keys = public_keys(write_export(path, events))
        started = time.perf_counter()
        with path.open("rb") as lines:
            report = verify(lines, keys)
        seconds = time.perf_counter() - started
        if not report.ok or report.events != events:
            raise AssertionError(report.text())
        started = time.perf_counter()
        subprocess.run(
            ["sha256sum", str(path)],
            check=True,
            capture_output=True,
        )
        sha = time.perf_counter() - started
        return path.stat().st_size, events / seconds, events / sha, seconds
