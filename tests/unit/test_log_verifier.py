"""The offline log verifier: an intact export is ok; each kind of tampering
is named at the first bad position; it runs as one copied file."""

from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from infra.eventstore import log_verifier
from infra.eventstore.log_verifier import (
    FORMAT,
    GENESIS,
    Problem,
    checkpoint_message,
    event_hash,
    public_keys,
    verify,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEYS_DOCUMENT = {
    "keys": [
        {
            "key_id": "k1",
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(
                KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            ).decode(),
        }
    ]
}
KEYS = public_keys(KEYS_DOCUMENT)


def event(position: int, previous: str, tenant: str = "acme") -> dict[str, Any]:
    payload = json.dumps({"name": f"Org {position}"}).encode()
    fields: dict[str, Any] = {
        "position": position,
        "tenant_id": tenant,
        "aggregate_id": f"00000000-0000-0000-0000-{position:012d}",
        "version": 1,
        "type": "domain.organization:Organization.Registered",
        "recorded_at": "2026-05-01T10:00:00.000000Z",
        "meta": {"tenant_id": tenant, "actor_id": "alice"},
    }
    digest = event_hash(
        bytes.fromhex(previous),
        position,
        tenant,
        fields["aggregate_id"],
        1,
        fields["type"],
        fields["recorded_at"],
        payload,
        fields["meta"],
    ).hex()
    return {
        "kind": "event",
        **fields,
        "payload": base64.b64encode(payload).decode(),
        "previous_hash": previous,
        "hash": digest,
    }


def checkpoint(position: int, head: str, key: Ed25519PrivateKey = KEY) -> dict:
    signature = key.sign(checkpoint_message("acme", position, bytes.fromhex(head)))
    return {
        "kind": "checkpoint",
        "tenant_id": "acme",
        "position": position,
        "head": head,
        "key_id": "k1",
        "signed_at": "2026-05-01T10:00:01.000000Z",
        "signature": base64.b64encode(signature).decode(),
    }


def export(positions: list[int], every: int = 3) -> list[dict[str, Any]]:
    """An export of events at ``positions``, a checkpoint after every
    ``every`` events and after the last."""
    lines: list[dict[str, Any]] = [
        {
            "kind": "log",
            "format": FORMAT,
            "tenant_id": "acme",
            "from_position": 1,
            "to_position": positions[-1],
            "previous_hash": GENESIS.hex(),
        }
    ]
    head = GENESIS.hex()
    for i, position in enumerate(positions, 1):
        lines.append(event(position, head))
        head = lines[-1]["hash"]
        if i % every == 0 or i == len(positions):
            lines.append(checkpoint(position, head))
    return lines


POSITIONS = [2, 3, 5, 8, 9, 12, 13]


def events_of(lines: list[dict[str, Any]]) -> dict[int, int]:
    return {
        line["position"]: i for i, line in enumerate(lines) if line["kind"] == "event"
    }


def test_an_intact_export_is_ok_with_its_range_and_checkpoints():
    report = verify(export(POSITIONS), KEYS)
    assert report.ok, report
    assert (report.first_position, report.last_position) == (2, 13)
    assert (report.events, report.checkpoints) == (7, 3)
    assert report.text() == (
        "ok: tenant acme, positions 2..13, 7 events, 3 checkpoints verified"
    )


def test_one_changed_payload_byte_is_named_at_its_position():
    lines = export(POSITIONS)
    line = lines[events_of(lines)[8]]
    payload = bytearray(base64.b64decode(line["payload"]))
    payload[3] ^= 1
    line["payload"] = base64.b64encode(bytes(payload)).decode()
    report = verify(lines, KEYS)
    assert (report.ok, report.problem, report.position) == (
        False,
        Problem.PAYLOAD_ALTERED,
        8,
    )


def test_a_missing_event_is_named_at_the_position_after_it():
    lines = export(POSITIONS)
    del lines[events_of(lines)[8]]
    report = verify(lines, KEYS)
    assert (report.problem, report.position) == (Problem.EVENT_MISSING, 9)


def test_a_missing_signed_event_is_named_at_its_own_position():
    lines = export(POSITIONS)
    del lines[events_of(lines)[5]]  # a checkpoint follows it
    report = verify(lines, KEYS)
    assert (report.problem, report.position) == (Problem.EVENT_MISSING, 5)


def test_a_forged_event_with_a_recomputed_hash_is_named_where_it_was_inserted():
    lines = export(POSITIONS)
    at = events_of(lines)[5]
    lines.insert(at + 2, event(6, lines[at]["hash"]))  # after 5's checkpoint
    report = verify(lines, KEYS)
    assert (report.problem, report.position) == (Problem.EVENT_INSERTED, 6)


def test_two_swapped_events_are_named_as_an_order_change():
    lines = export(POSITIONS)
    found = events_of(lines)
    a, b = lines[found[8]], lines[found[9]]
    content = ("aggregate_id", "payload", "meta")
    for name in content:
        a[name], b[name] = b[name], a[name]
    report = verify(lines, KEYS)
    assert (report.problem, report.position) == (Problem.ORDER_CHANGED, 8)


def test_a_bad_signature_and_an_unknown_key_are_signature_invalid():
    lines = export(POSITIONS)
    cp = next(i for i, line in enumerate(lines) if line["kind"] == "checkpoint")
    other = Ed25519PrivateKey.generate()
    lines[cp] = checkpoint(lines[cp]["position"], lines[cp]["head"], other)
    report = verify(lines, KEYS)
    assert (report.problem, report.position) == (Problem.SIGNATURE_INVALID, 5)
    assert not verify(export(POSITIONS), {}).ok


def test_a_rewritten_chain_fails_at_its_signed_checkpoint():
    lines = export(POSITIONS)
    # rewrite events from position 8 on with recomputed hashes, old checkpoints
    found = events_of(lines)
    head = lines[found[5]]["hash"]
    for position in (8, 9, 12):
        forged = event(position, head)
        forged["meta"] = {"tenant_id": "acme", "actor_id": "mallory"}
        forged["hash"] = event_hash(
            bytes.fromhex(head),
            position,
            "acme",
            forged["aggregate_id"],
            1,
            forged["type"],
            forged["recorded_at"],
            base64.b64decode(forged["payload"]),
            forged["meta"],
        ).hex()
        lines[found[position]] = forged
        head = forged["hash"]
    report = verify(lines, KEYS)
    assert (report.problem, report.position) == (Problem.CHECKPOINT_MISMATCH, 12)


def test_events_after_the_last_checkpoint_are_not_covered():
    lines = export(POSITIONS)
    del lines[-1]  # the last checkpoint
    report = verify(lines, KEYS)
    assert (report.problem, report.position) == (Problem.NOT_COVERED, 13)
    assert verify(lines, KEYS, allow_uncovered_tail=True).ok


def test_the_verifier_imports_only_the_standard_library_and_cryptography():
    tree = ast.parse(Path(log_verifier.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots - set(sys.stdlib_module_names) == {"cryptography"}


@pytest.mark.parametrize("tamper", [False, True])
def test_the_verifier_runs_as_one_copied_file(tmp_path, tamper):
    lines = export(POSITIONS)
    if tamper:
        lines[events_of(lines)[3]]["payload"] = base64.b64encode(b"{}").decode()
    (tmp_path / "log.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines)
    )
    (tmp_path / "keys.json").write_text(json.dumps(KEYS_DOCUMENT))
    copy = tmp_path / "log_verifier.py"
    copy.write_text(Path(log_verifier.__file__).read_text())
    done = subprocess.run(
        [sys.executable, "-I", str(copy), "log.jsonl", "--keys", "keys.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if tamper:
        assert done.returncode == 1, done.stderr
        assert done.stdout.startswith("bad at position 3: payload altered")
    else:
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("ok: tenant acme, positions 2..13")


@pytest.mark.parametrize(
    ("previous", "position", "meta"),
    [
        (log_verifier.GENESIS, 1, {}),
        (b"\x01" * 32, 987_654_321, {"tenant_id": "t-é", "actor_id": "a"}),
    ],
)
def test_the_hash_made_before_the_position_is_known_is_the_event_hash(
    previous, position, meta
):
    """The appender puts an event's fields in canonical bytes before it has a
    position (:func:`event_tail`), then hashes them behind the position and
    previous hash: the same hash the verifier computes from all fields."""
    fields = ("t-é", "0b9d8a52-3f0e-4a55-9a8e-1d6c0c4f7f11", 3, "domain.x:X.Y")
    at, payload = "2026-12-05T01:02:03.000004Z", b'{"a": "\\u00e9"}'
    tail = log_verifier.event_tail(*fields, at, payload, meta)
    assert log_verifier.tail_hash(previous, position, tail) == event_hash(
        previous, position, *fields, at, payload, meta
    )
