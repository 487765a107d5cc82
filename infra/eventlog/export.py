"""A tenant's chain as the export's JSON Lines objects.

The same lines serve the HTTP export, ``assurehub export-log`` and the live
checks (``assurehub verify-log --live`` and the watcher), so what an auditor
verifies offline is exactly what the application verifies in place.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from infra.eventstore.chain import read_payload, recorded_time
from infra.eventstore.log_verifier import FORMAT, GENESIS
from infra.postgres import event_log
from infra.postgres.event_log import ChainRow, CheckpointRow, KeyRow
from infra.postgres.pool import Database


def key_line(key: KeyRow) -> dict[str, Any]:
    """A published public key, as in the export and the well-known document."""
    return {
        "kind": "key",
        "key_id": key.key_id,
        "algorithm": key.algorithm,
        "public_key": base64.b64encode(key.public_key).decode(),
        "first_used_at": recorded_time(key.first_used_at),
    }


def _event_line(row: ChainRow) -> dict[str, Any]:
    meta: dict[str, str] = {}
    if row.payload is not None:
        try:
            meta = read_payload(row.payload).meta
        except (ValueError, KeyError, TypeError, AttributeError):
            meta = {}  # unreadable payload: its hash will not match
    return {
        "kind": "event",
        "position": row.position,
        "tenant_id": row.tenant_id,
        "aggregate_id": None if row.aggregate_id is None else str(row.aggregate_id),
        "version": row.version,
        "type": row.type,
        "recorded_at": recorded_time(row.recorded_at),
        "payload": None
        if row.payload is None
        else base64.b64encode(row.payload).decode(),
        "meta": meta,
        "previous_hash": row.previous_hash.hex(),
        "hash": row.hash.hex(),
    }


def _checkpoint_line(checkpoint: CheckpointRow) -> dict[str, Any]:
    return {
        "kind": "checkpoint",
        "tenant_id": checkpoint.tenant_id,
        "position": checkpoint.position,
        "head": checkpoint.head.hex(),
        "key_id": checkpoint.key_id,
        "signed_at": recorded_time(checkpoint.signed_at),
        "signature": base64.b64encode(checkpoint.signature).decode(),
    }


def newest_checkpoint(database: Database, tenant_id: str) -> int:
    """Position of the tenant's newest checkpoint (0: none yet)."""
    with database.connection() as conn:
        found = event_log.newest_checkpoints(conn, tenant_id, 1)
    return found[-1] if found else 0


def export_lines(
    database: Database, tenant_id: str, from_position: int, to_position: int | None
) -> Iterator[dict[str, Any]]:
    """The export of ``tenant_id``'s events with ``from_position <= position
    <= to_position`` (``None``: up to its newest event): the ``log`` line,
    the published keys, then the events with each checkpoint right after the
    event at its position."""
    with database.connection() as conn, conn.transaction():
        previous = event_log.hash_before(conn, tenant_id, from_position)
        yield {
            "kind": "log",
            "format": FORMAT,
            "tenant_id": tenant_id,
            "from_position": from_position,
            "to_position": to_position,
            "previous_hash": (previous or GENESIS).hex(),
            "exported_at": recorded_time(datetime.now(UTC)),
        }
        for key in event_log.public_keys(conn):
            yield key_line(key)
        after = from_position - 1
        pending = event_log.checkpoints(conn, tenant_id, after, to_position)
        for row in event_log.chain_rows(conn, tenant_id, after, to_position):
            while pending and pending[0].position < row.position:
                yield _checkpoint_line(pending.pop(0))
            yield _event_line(row)
        for checkpoint in pending:
            yield _checkpoint_line(checkpoint)


def json_lines(lines: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """The objects as JSON Lines (UTF-8, one object per line)."""
    for line in lines:
        yield json.dumps(line, separators=(",", ":")).encode() + b"\n"
