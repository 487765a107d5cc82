"""Halted projections: those that met a record they could neither apply nor
park (the dead-letter insert itself failed).

A halt is one row of ``projection_halts``, written in a transaction of its
own (the batch's was rolled back), so it survives restarts. While it exists
the projection's runners consume nothing and commit no offset; status and
readiness show it with its reason. An operator clears it with ``assurehub
projections resume NAME`` once the cause is fixed (the record then comes
again), and a rebuild of the projection clears it at its swap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from infra.postgres.dead_letters import Origin, storable
from infra.postgres.pool import Connection


@dataclass(frozen=True)
class Halt:
    """Why and where a projection stopped."""

    projection: str
    reason: str
    event_id: str | None
    origin: Origin
    halted_at: datetime | None = None


def halt(conn: Connection, stop: Halt) -> None:
    """Record ``stop`` (replacing an earlier halt of the projection)."""
    conn.execute(
        "INSERT INTO projection_halts"
        " (projection, reason, event_id, topic, partition, kafka_offset)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (projection) DO UPDATE SET"
        " reason = EXCLUDED.reason, event_id = EXCLUDED.event_id,"
        " topic = EXCLUDED.topic, partition = EXCLUDED.partition,"
        " kafka_offset = EXCLUDED.kafka_offset, halted_at = now()",
        (
            stop.projection,
            storable(stop.reason),
            None if stop.event_id is None else storable(stop.event_id),
            stop.origin.topic,
            stop.origin.partition,
            stop.origin.offset,
        ),
    )


def halt_of(conn: Connection, projection: str) -> Halt | None:
    """The halt of ``projection``, if it is halted."""
    row = conn.execute(
        "SELECT reason, event_id, topic, partition, kafka_offset, halted_at"
        " FROM projection_halts WHERE projection = %s",
        (projection,),
    ).fetchone()
    if row is None:
        return None
    return Halt(projection, row[0], row[1], Origin(row[2], row[3], row[4]), row[5])


def clear(conn: Connection, projection: str) -> bool:
    """Delete the halt of ``projection``; return whether there was one."""
    cursor = conn.execute(
        "DELETE FROM projection_halts WHERE projection = %s", (projection,)
    )
    return cursor.rowcount > 0


def halted_projections(conn: Connection) -> dict[str, str]:
    """Every projection that is stopped, with why: a halt row, or (policy
    ``halt``) an event it retries until it applies."""
    rows = conn.execute(
        "SELECT projection, reason, 0 FROM projection_halts UNION ALL"
        " (SELECT DISTINCT ON (projection) projection,"
        " 'retrying event ' || event_id || ': ' || error, 1"
        " FROM projection_dead_letters WHERE state = 'halted'"
        " ORDER BY projection, seq) ORDER BY 1, 3"
    ).fetchall()
    halted: dict[str, str] = {}
    for projection, reason, _ in rows:
        halted.setdefault(str(projection), str(reason))
    return halted
