"""SQL of the event log's proof: chain rows joined with the stored events,
checkpoints, the public keys that signed them, and the watcher's alerts.

Rows are read from ``event_chain`` (one per chained event, by tenant) joined
to ``assurehub_events`` with a left join: an event row deleted behind the
application's back still shows as its chain row with no payload.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg import sql

from infra.postgres.pool import Connection

_BATCH = 2000
_TENANTS = (
    "t AS ((SELECT tenant_id FROM event_chain ORDER BY tenant_id LIMIT 1)"
    " UNION ALL SELECT (SELECT c.tenant_id FROM event_chain c"
    " WHERE c.tenant_id > t.tenant_id ORDER BY c.tenant_id LIMIT 1)"
    " FROM t WHERE t.tenant_id IS NOT NULL)"
)
"""The distinct tenants of ``event_chain``, one index probe each."""


def _with_tenants(query: str) -> sql.Composed:
    """``query`` with the tenants as its recursive ``t``."""
    return sql.SQL("WITH RECURSIVE {} {}").format(sql.SQL(_TENANTS), sql.SQL(query))


@dataclass(frozen=True)
class ChainRow:
    """One chained event as stored (``payload`` ``None``: the row is gone)."""

    position: int
    tenant_id: str
    recorded_at: datetime
    previous_hash: bytes
    hash: bytes
    aggregate_id: UUID | None
    version: int | None
    type: str | None
    payload: bytes | None


@dataclass(frozen=True)
class CheckpointRow:
    tenant_id: str
    position: int
    head: bytes
    key_id: str
    signature: bytes
    signed_at: datetime


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    algorithm: str
    public_key: bytes
    first_used_at: datetime


def chain_rows(
    conn: Connection, tenant_id: str, after: int, up_to: int | None
) -> Iterator[ChainRow]:
    """The tenant's chained events with ``after < position <= up_to``, in
    position order, read in batches by a server-side cursor (call inside a
    transaction)."""
    with conn.cursor(name="event_log_export") as curs:
        curs.itersize = _BATCH
        curs.execute(
            "SELECT c.position, c.tenant_id, c.recorded_at, c.previous_hash,"
            " c.hash, e.originator_id, e.originator_version, e.topic, e.state"
            " FROM event_chain c LEFT JOIN assurehub_events e"
            " ON e.notification_id = c.position"
            " WHERE c.tenant_id = %s AND c.position > %s"
            " AND (%s::bigint IS NULL OR c.position <= %s::bigint)"
            " ORDER BY c.position",
            (tenant_id, after, up_to, up_to),
        )
        for row in curs:
            yield ChainRow(
                row[0],
                row[1],
                row[2],
                bytes(row[3]),
                bytes(row[4]),
                row[5],
                row[6],
                row[7],
                None if row[8] is None else bytes(row[8]),
            )


def hash_before(conn: Connection, tenant_id: str, position: int) -> bytes | None:
    """The hash of the tenant's newest event before ``position``, if any."""
    row = conn.execute(
        "SELECT hash FROM event_chain WHERE tenant_id = %s AND position < %s"
        " ORDER BY position DESC LIMIT 1",
        (tenant_id, position),
    ).fetchone()
    return None if row is None else bytes(row[0])


def chain_head(conn: Connection, tenant_id: str) -> int | None:
    """The position of the tenant's newest chained event, if any."""
    row = conn.execute(
        "SELECT max(position) FROM event_chain WHERE tenant_id = %s", (tenant_id,)
    ).fetchone()
    return None if row is None else row[0]


def checkpoints(
    conn: Connection, tenant_id: str, after: int, up_to: int | None
) -> list[CheckpointRow]:
    """The tenant's checkpoints with ``after < position <= up_to``."""
    rows = conn.execute(
        "SELECT tenant_id, position, head, key_id, signature, signed_at"
        " FROM log_checkpoints WHERE tenant_id = %s AND position > %s"
        " AND (%s::bigint IS NULL OR position <= %s::bigint) ORDER BY position",
        (tenant_id, after, up_to, up_to),
    ).fetchall()
    return [
        CheckpointRow(r[0], r[1], bytes(r[2]), r[3], bytes(r[4]), r[5]) for r in rows
    ]


def newest_checkpoints(conn: Connection, tenant_id: str, count: int) -> list[int]:
    """Positions of the tenant's ``count`` newest checkpoints, oldest first."""
    rows = conn.execute(
        "SELECT position FROM log_checkpoints WHERE tenant_id = %s"
        " ORDER BY position DESC LIMIT %s",
        (tenant_id, count),
    ).fetchall()
    return sorted(r[0] for r in rows)


def public_keys(conn: Connection) -> list[KeyRow]:
    """Every key that ever signed a checkpoint, oldest first."""
    rows = conn.execute(
        "SELECT key_id, algorithm, public_key, first_used_at FROM log_signing_keys"
        " ORDER BY first_used_at, key_id"
    ).fetchall()
    return [KeyRow(r[0], r[1], bytes(r[2]), r[3]) for r in rows]


def publish_key(conn: Connection, key_id: str, public_key: bytes) -> bytes:
    """Record a signing key's public half (once); return the one recorded
    under ``key_id`` (differs: the id was reused for another key)."""
    conn.execute(
        "INSERT INTO log_signing_keys (key_id, public_key) VALUES (%s, %s)"
        " ON CONFLICT (key_id) DO NOTHING",
        (key_id, public_key),
    )
    row = conn.execute(
        "SELECT public_key FROM log_signing_keys WHERE key_id = %s", (key_id,)
    ).fetchone()
    assert row is not None
    return bytes(row[0])


@dataclass(frozen=True)
class PendingChain:
    """A tenant with events after its newest checkpoint."""

    tenant_id: str
    checkpoint: int
    """Position of the newest checkpoint (0: none yet)."""
    head: int
    count: int
    oldest: datetime
    """When the oldest unsigned event, or the newest checkpoint, was made."""


def pending(conn: Connection) -> list[PendingChain]:
    """Every tenant whose chain has grown since its newest checkpoint (per
    tenant: its newest checkpoint, then an index range over the events
    after it)."""
    rows = conn.execute(
        _with_tenants(
            " SELECT t.tenant_id, coalesce(k.position, 0), h.head, h.n,"
            " coalesce(k.at, h.oldest) FROM t"
            " LEFT JOIN LATERAL (SELECT position, signed_at AS at FROM log_checkpoints"
            " WHERE tenant_id = t.tenant_id ORDER BY position DESC LIMIT 1) AS k"
            " ON true"
            " CROSS JOIN LATERAL (SELECT max(c.position) AS head, count(*) AS n,"
            " min(c.recorded_at) AS oldest FROM event_chain c"
            " WHERE c.tenant_id = t.tenant_id"
            " AND c.position > coalesce(k.position, 0))"
            " AS h WHERE t.tenant_id IS NOT NULL AND h.n > 0 ORDER BY t.tenant_id"
        )
    ).fetchall()
    return [PendingChain(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def record_checkpoint(conn: Connection, checkpoint: CheckpointRow) -> None:
    conn.execute(
        "INSERT INTO log_checkpoints (tenant_id, position, head, key_id, signature,"
        " signed_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (
            checkpoint.tenant_id,
            checkpoint.position,
            checkpoint.head,
            checkpoint.key_id,
            checkpoint.signature,
            checkpoint.signed_at,
        ),
    )


def tenants(conn: Connection) -> list[str]:
    """Every tenant with a chain."""
    rows = conn.execute(
        _with_tenants("SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL")
    ).fetchall()
    return [r[0] for r in rows]


def unchained(conn: Connection, after: int) -> list[int]:
    """Positions after ``after`` of stored events with no chain row."""
    rows = conn.execute(
        "SELECT e.notification_id FROM assurehub_events e"
        " LEFT JOIN event_chain c ON c.position = e.notification_id"
        " WHERE e.notification_id > %s AND c.position IS NULL"
        " ORDER BY e.notification_id LIMIT 100",
        (after,),
    ).fetchall()
    return [r[0] for r in rows]


def raise_alert(
    conn: Connection,
    tenant_id: str,
    position: int | None,
    problem: str,
    detail: str,
    segment: tuple[int, int | None] = (1, None),
) -> bool:
    """Record an alert unless the same one is open; True when recorded."""
    row = conn.execute(
        "INSERT INTO log_alerts (tenant_id, position, problem, detail,"
        " segment_from, segment_to)"
        " SELECT %s, %s, %s, %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM log_alerts"
        " WHERE resolved_at IS NULL AND tenant_id = %s"
        " AND position IS NOT DISTINCT FROM %s AND problem = %s) RETURNING id",
        (tenant_id, position, problem, detail, *segment, tenant_id, position, problem),
    ).fetchone()
    return row is not None


@dataclass(frozen=True)
class AlertRow:
    """One alert of the watcher (``tenant_id`` empty: a stored event with no
    chain link, whose tenant the chain cannot tell)."""

    id: int
    tenant_id: str
    position: int | None
    problem: str
    detail: str
    segment_from: int
    segment_to: int | None
    detected_at: datetime
    event_recorded_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


_ALERT = (
    "SELECT id, tenant_id, position, problem, detail, segment_from, segment_to,"
    " detected_at, event_recorded_at, resolved_at, resolved_by, resolution"
    " FROM log_alerts"
)


def alerts(conn: Connection, include_resolved: bool) -> list[AlertRow]:
    """The open alerts (and the resolved ones too), oldest first."""
    rows = conn.execute(
        _ALERT + " WHERE %s OR resolved_at IS NULL ORDER BY id",
        (include_resolved,),
    ).fetchall()
    return [AlertRow(*r) for r in rows]


def unrecorded_alerts(conn: Connection) -> list[AlertRow]:
    """Open alerts of a tenant whose security event is not appended yet."""
    rows = conn.execute(
        _ALERT + " WHERE event_recorded_at IS NULL AND resolved_at IS NULL"
        " AND tenant_id <> '' ORDER BY id"
    ).fetchall()
    return [AlertRow(*r) for r in rows]


def mark_recorded(conn: Connection, alert_id: int) -> None:
    """The alert's security event is in its tenant's log."""
    conn.execute(
        "UPDATE log_alerts SET event_recorded_at = now()"
        " WHERE id = %s AND event_recorded_at IS NULL",
        (alert_id,),
    )


def resolve_alert(conn: Connection, alert_id: int, by: str, note: str) -> bool:
    """Resolve an open alert with the operator's note; False when no open
    alert has that id."""
    row = conn.execute(
        "UPDATE log_alerts SET resolved_at = now(), resolved_by = %s,"
        " resolution = %s WHERE id = %s AND resolved_at IS NULL RETURNING id",
        (by, note, alert_id),
    ).fetchone()
    return row is not None


def open_alerts(conn: Connection) -> int:
    """How many alerts no operator has resolved yet."""
    row = conn.execute(
        "SELECT count(*) FROM log_alerts WHERE resolved_at IS NULL"
    ).fetchone()
    return int(row[0]) if row else 0
