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
    verify_file,
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
    checkpoint every ``every`` events, in ``assurehub export-log``'s layout;
    returns the keys document. Only the fields that change are formatted per
    event."""
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    type_, at = (
        "domain.organization:Organization.Registered",
        "2026-11-26T04:00:00.000000Z",
    )
    meta = {
        "tenant_id": "bench",
        "actor_id": "bench",
        "correlation_id": "c",
        "causation_id": "c",
    }
    fixed = {"version": 1, "type": type_, "recorded_at": at}
    line = (
        '{"kind":"event","position":%d,"tenant_id":"bench","aggregate_id":"%s",'
        + _compact(fixed)[1:-1]
        + ',"payload":'
        + _compact(base64.b64encode(STATE).decode())
        + ',"meta":'
        + _compact(meta)
        + ',"previous_hash":"%s","hash":"%s"}\n'
    ).encode()
    header = {
        "kind": "log",
        "format": FORMAT,
        "tenant_id": "bench",
        "from_position": 1,
        "to_position": events,
        "previous_hash": GENESIS.hex(),
    }
    head = GENESIS
    with path.open("wb") as out:
        batch = [_compact(header).encode() + b"\n"]
        for position in range(1, events + 1):
            aggregate = f"00000000-0000-4000-8000-{position:012d}"
            digest = event_hash(
                head, position, "bench", aggregate, 1, type_, at, STATE, meta
            )
            batch.append(
                line
                % (
                    position,
                    aggregate.encode(),
                    head.hex().encode(),
                    digest.hex().encode(),
                )
            )
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
                batch.append(_compact(checkpoint).encode() + b"\n")
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
    return {
        "keys": [
            {
                "key_id": "bench",
                "algorithm": "Ed25519",
                "public_key": base64.b64encode(raw).decode(),
            }
        ]
    }


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def verify_rates(events: int) -> tuple[int, float, float, float, float]:
    """``(file bytes, verifier events/s, sha256sum events/s, seconds, seconds
    to write the export)``; the verifier is ``assurehub verify-log``'s
    (:func:`verify_file`, one worker process per processor)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.jsonl"
        started = time.perf_counter()
        keys = public_keys(write_export(path, events))
        written = time.perf_counter() - started
        started = time.perf_counter()
        report = verify_file(path, keys)
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
        return path.stat().st_size, events / seconds, events / sha, seconds, written
