"""Dead letters: events a projection could not apply, kept with their error.

Policy (a projection's optional ``on_error`` attribute, default ``"park"``):

- ``park``: the event's effects are rolled back to a savepoint, the event is
  recorded here as ``parked`` in the batch's own transaction, and tracking
  moves past it; the other events of the batch keep their effects. Later
  events of the same aggregate (``subject``) are parked too, unapplied,
  because the rows they would change are now suspect; they wait for the
  earlier one. ``assurehub projections replay`` applies parked events in
  position order after a fix, deleting each one that applies.
- ``halt``: the batch is rolled back, the event is recorded here as
  ``halted`` (tracking does not move) and the runner retries the batch with
  backoff; the row goes once the event applies.

Only the projection's own errors are dead-lettered (its code raised, or
Postgres refused a row: ``DataError``, ``IntegrityError``,
``ProgrammingError``). Outages, lock timeouts and deadlocks
(:data:`TRANSIENT`) roll back the batch, which is delivered again.
"""

from __future__ import annotations

import dataclasses
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from infra.errors import DependencyUnavailableError, InfrastructureError
from infra.postgres.pool import Connection, Database
from infra.postgres.projection_schemas import (
    check_shape,
    lock_exclusive,
    stored_fingerprint,
)
from infra.postgres.rows import PostgresRows, schema_name
from projections.envelope import EventEnvelope
from projections.ports import TableProjection
from projections.rows import Rows

PARK = "park"
HALT = "halt"
TRANSIENT = (DependencyUnavailableError, psycopg.OperationalError)
"""Errors that are not the projection's: never dead-lettered."""


def policy(projection: object) -> str:
    """``projection.on_error`` (``"park"`` or ``"halt"``), default ``"park"``."""
    value = getattr(projection, "on_error", PARK)
    if value not in (PARK, HALT):
        raise ValueError(f"on_error must be {PARK!r} or {HALT!r}, not {value!r}")
    return str(value)


@dataclass(frozen=True)
class Origin:
    """Where a dead event came from: a Kafka record, or ``None``s (a rebuild)."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class DeadLetter:
    """One recorded event with the error it raised."""

    projection: str
    state: str
    envelope: EventEnvelope
    origin: Origin
    error: str
    traceback: str
    attempts: int = 1
    parked_at: datetime | None = None


def envelope_json(envelope: EventEnvelope) -> dict[str, Any]:
    """The envelope as a JSON object (``time`` in ISO 8601)."""
    fields = dataclasses.asdict(envelope)
    fields["time"] = envelope.time.isoformat()
    return fields


def envelope_of(value: dict[str, Any]) -> EventEnvelope:
    """The envelope back from :func:`envelope_json`."""
    return EventEnvelope(**{**value, "time": datetime.fromisoformat(value["time"])})


def letter(
    projection: str, envelope: EventEnvelope, error: BaseException | str, origin: Origin
) -> DeadLetter:
    """A parked letter for ``error`` (an exception, or why it waits)."""
    if isinstance(error, BaseException):
        text = f"{type(error).__name__}: {error}"
        trace = "".join(traceback.format_exception(error))
    else:
        text, trace = error, ""
    return DeadLetter(projection, "parked", envelope, origin, text, trace)


def apply_guarded(
    conn: Connection, projection: TableProjection, rows: Rows, event: EventEnvelope
) -> BaseException | None:
    """Apply ``event`` inside a savepoint; return the projection's error (its
    effects rolled back) or ``None``. :data:`TRANSIENT` errors propagate."""
    try:
        with conn.transaction():
            projection.apply(event, rows)
    except TRANSIENT:
        raise
    except Exception as e:
        if conn.broken:
            raise
        return e
    return None


def record(conn: Connection, dead: DeadLetter) -> None:
    """Insert ``dead``, or on a repeated failure update its error and count."""
    e = dead.envelope
    conn.execute(
        "INSERT INTO projection_dead_letters (projection, event_id, state,"
        " position, event_type, subject, tenant_id, topic, partition,"
        " kafka_offset, envelope, error, traceback)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (projection, event_id) DO UPDATE SET state = EXCLUDED.state,"
        " error = EXCLUDED.error, traceback = EXCLUDED.traceback,"
        " attempts = projection_dead_letters.attempts + 1, failed_at = now()",
        (
            dead.projection,
            e.id,
            dead.state,
            e.position,
            e.type,
            e.subject,
            e.tenant_id,
            dead.origin.topic,
            dead.origin.partition,
            dead.origin.offset,
            Jsonb(envelope_json(e)),
            dead.error,
            dead.traceback,
        ),
    )


def known(
    conn: Connection, projection: str, subjects: list[str]
) -> tuple[set[str], set[str]]:
    """Of ``subjects``: those with a parked event, and the ids of halted events."""
    rows = conn.execute(
        "SELECT subject, event_id, state FROM projection_dead_letters"
        " WHERE projection = %s AND subject = ANY(%s)",
        (projection, subjects),
    ).fetchall()
    parked = {r[0] for r in rows if r[2] == "parked"}
    return parked, {r[1] for r in rows if r[2] == "halted"}


def forget(conn: Connection, projection: str, event_ids: list[str]) -> None:
    """Delete the letters of events that have now been applied."""
    conn.execute(
        "DELETE FROM projection_dead_letters"
        " WHERE projection = %s AND event_id = ANY(%s)",
        (projection, event_ids),
    )


def replace_all(conn: Connection, projection: str, letters: list[DeadLetter]) -> None:
    """Replace every letter of ``projection`` by ``letters`` (a rebuild's)."""
    conn.execute(
        "DELETE FROM projection_dead_letters WHERE projection = %s", (projection,)
    )
    for dead in letters:
        record(conn, dead)


def parked(
    conn: Connection, projection: str, after: int = 0, limit: int = 500
) -> list[DeadLetter]:
    """Parked letters of ``projection`` after ``after``, in position order,
    locked for the caller's transaction."""
    rows = conn.execute(
        "SELECT envelope, topic, partition, kafka_offset, error, traceback,"
        " attempts, parked_at FROM projection_dead_letters"
        " WHERE projection = %s AND state = 'parked' AND position > %s"
        " ORDER BY position LIMIT %s FOR UPDATE",
        (projection, after, limit),
    ).fetchall()
    return [
        DeadLetter(
            projection, "parked", envelope_of(r[0]), Origin(r[1], r[2], r[3]), *r[4:]
        )
        for r in rows
    ]


class ReplayRefusedError(InfrastructureError):
    """The event is not parked, or an earlier parked event of its aggregate
    must be replayed first."""


@dataclass
class ReplayResult:
    """What a replay did: applied ids, failed ids with their new error, and
    ids left parked behind an earlier failure of their aggregate."""

    applied: list[str] = dataclasses.field(default_factory=list)
    failed: dict[str, str] = dataclasses.field(default_factory=dict)
    waiting: list[str] = dataclasses.field(default_factory=list)


def _only(conn: Connection, projection: str, event_id: str) -> DeadLetter:
    first = conn.execute(
        "SELECT position, event_id FROM projection_dead_letters"
        " WHERE projection = %s AND state = 'parked' AND subject = (SELECT subject"
        " FROM projection_dead_letters WHERE projection = %s AND event_id = %s"
        " AND state = 'parked') ORDER BY position LIMIT 1",
        (projection, projection, event_id),
    ).fetchone()
    if first is None:
        raise ReplayRefusedError(f"{projection}: no parked event {event_id}")
    if first[1] != event_id:
        raise ReplayRefusedError(
            f"{projection}: event {event_id} waits for {first[1]} of the same"
            " aggregate; replay that one first (or use --all)"
        )
    return parked(conn, projection, first[0] - 1, 1)[0]


def _replay_chunk(
    conn: Connection,
    projection: TableProjection,
    letters: list[DeadLetter],
    result: ReplayResult,
    failed_subjects: set[str],
) -> None:
    rows = PostgresRows(conn, schema_name(projection.name), projection.tables)
    for dead in letters:
        event = dead.envelope
        if event.subject in failed_subjects:
            result.waiting.append(event.id)
            continue
        error = apply_guarded(conn, projection, rows, event)
        if error is None:
            forget(conn, projection.name, [event.id])
            result.applied.append(event.id)
        else:
            record(conn, letter(projection.name, event, error, dead.origin))
            result.failed[event.id] = f"{type(error).__name__}: {error}"
            failed_subjects.add(event.subject)


def replay(
    database: Database,
    projection: TableProjection,
    event_id: str | None = None,
    chunk: int = 500,
) -> ReplayResult:
    """Apply ``projection``'s parked events (all, or one) in position order.

    Each chunk runs in one transaction holding the projection's writers lock
    exclusively (live batches wait meanwhile), each event in a savepoint.

    Raises:
        ShapeMismatchError: the tables do not fit the code; rebuild instead.
        ReplayRefusedError: ``event_id`` is not parked, or waits for another.
    """
    result = ReplayResult()
    failed_subjects: set[str] = set()
    after = 0
    with database.connection() as conn:
        while True:
            with conn.transaction():
                lock_exclusive(conn, projection.name)
                check_shape(projection, stored_fingerprint(conn, projection.name))
                if event_id is not None:
                    letters = [_only(conn, projection.name, event_id)]
                else:
                    letters = parked(conn, projection.name, after, chunk)
                _replay_chunk(conn, projection, letters, result, failed_subjects)
            if event_id is not None or len(letters) < chunk:
                return result
            after = letters[-1].envelope.position
