"""Dead letters: records a projection could not apply, kept with their error.

Policy (a projection's optional ``on_error`` attribute, default ``"park"``):

- ``park``: the event's effects are rolled back to a savepoint, the record is
  kept here as ``parked`` in the batch's own transaction, and tracking moves
  past it; the other events of the batch keep their effects. Later events of
  the same aggregate (``subject``) are parked too, unapplied, because the
  rows they would change are now suspect; they wait for the earlier one.
  ``assurehub projections replay`` (:mod:`infra.projection.replay`) applies
  parked records in the order they were parked, deleting each that applies.
- ``halt``: the batch is rolled back, the event is kept here as ``halted``
  (tracking does not move) and the runner retries the batch with backoff;
  the row goes once the event applies.

A letter keeps the Kafka record's own bytes (:class:`RawRecord`: key, value,
headers as ``bytea``), never a re-encoded copy, so that any record can be
parked whatever it holds; what could be read of it (position, type,
aggregate, tenant) is kept beside in text made :func:`storable`. Letters of a
rebuild keep the record the relay would publish for the stored event.

Only the projection's own errors are dead-lettered (its code raised, or
Postgres refused a row). Outages, lock timeouts and deadlocks
(:func:`is_transient`) roll back the batch, which is delivered again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors, sql

from infra.errors import DependencyUnavailableError
from infra.postgres.pool import Connection
from projections.envelope import EventEnvelope
from projections.ports import TableProjection
from projections.rows import Rows

PARK = "park"
HALT = "halt"


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is not the projection's: an outage, a lock timeout,
    a deadlock (the batch is retried). A row over a Postgres limit (an index
    entry too large) is the event's problem, not the database's."""
    if isinstance(error, DependencyUnavailableError):
        return True
    return isinstance(error, psycopg.OperationalError) and not isinstance(
        error, errors.ProgramLimitExceeded
    )


def policy(projection: object) -> str:
    """``projection.on_error`` (``"park"`` or ``"halt"``), default ``"park"``."""
    value = getattr(projection, "on_error", PARK)
    if value not in (PARK, HALT):
        raise ValueError(f"on_error must be {PARK!r} or {HALT!r}, not {value!r}")
    return str(value)


def storable(text: str) -> str:
    """``text`` as a Postgres ``text`` value can hold it: each NUL written
    ``\\x00`` and each lone surrogate ``\\udXXX`` (everything else unchanged)."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode()
    return text


@dataclass(frozen=True)
class Origin:
    """Where a dead event came from: a Kafka record, or ``None``s (a rebuild)."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class RawRecord:
    """A record's bytes, exactly as delivered (``None``: a null key/value)."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[bytes, bytes | None], ...] = ()


@dataclass(frozen=True)
class DeadLetter:
    """One kept record with the error it raised (or why it was not applied).

    ``event_id`` is the event's ``ce_id``, or ``kafka:<topic>:<partition>:
    <offset>`` when that cannot be read; ``position``, ``event_type``,
    ``subject`` and ``tenant_id`` are ``None`` when they cannot.
    """

    projection: str
    state: str
    event_id: str
    record: RawRecord
    origin: Origin
    error: str
    traceback: str
    position: int | None = None
    event_type: str | None = None
    subject: str | None = None
    tenant_id: str | None = None
    attempts: int = 1
    parked_at: datetime | None = None
    seq: int = 0


def apply_guarded(
    conn: Connection, projection: TableProjection, rows: Rows, event: EventEnvelope
) -> BaseException | None:
    """Apply ``event`` inside a savepoint; return the projection's error (its
    effects rolled back) or ``None``. Transient errors propagate."""
    try:
        with conn.transaction():
            projection.apply(event, rows)
    except Exception as e:
        if is_transient(e) or conn.broken:
            raise
        return e
    return None


def _text(value: str | None) -> str | None:
    return None if value is None else storable(value)


def record(conn: Connection, dead: DeadLetter) -> None:
    """Insert ``dead``, or on a repeated failure update its error, count and
    record (the latest delivery's)."""
    raw = dead.record
    conn.execute(
        "INSERT INTO projection_dead_letters (projection, event_id, state,"
        " position, event_type, subject, tenant_id, topic, partition,"
        " kafka_offset, record_key, record_value, header_names, header_values,"
        " error, traceback) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " %s, %s, %s::bytea[], %s::bytea[], %s, %s)"
        " ON CONFLICT (projection, event_id) DO UPDATE SET state = EXCLUDED.state,"
        " error = EXCLUDED.error, traceback = EXCLUDED.traceback,"
        " topic = EXCLUDED.topic, partition = EXCLUDED.partition,"
        " kafka_offset = EXCLUDED.kafka_offset,"
        " record_key = EXCLUDED.record_key, record_value = EXCLUDED.record_value,"
        " header_names = EXCLUDED.header_names,"
        " header_values = EXCLUDED.header_values,"
        " attempts = projection_dead_letters.attempts + 1, failed_at = now()",
        (
            dead.projection,
            storable(dead.event_id),
            dead.state,
            dead.position,
            _text(dead.event_type),
            _text(dead.subject),
            _text(dead.tenant_id),
            dead.origin.topic,
            dead.origin.partition,
            dead.origin.offset,
            raw.key,
            raw.value,
            [name for name, _ in raw.headers],
            [value for _, value in raw.headers],
            storable(dead.error),
            storable(dead.traceback),
        ),
    )


_FEW_SUBJECTS = 20


def _has_letters(conn: Connection, projection: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM projection_dead_letters WHERE projection = %s LIMIT 1",
        (projection,),
    ).fetchone()
    return found is not None


def known(
    conn: Connection, projection: str, subjects: list[str]
) -> tuple[set[str], set[str]]:
    """Of ``subjects``: those with a parked event, and the ids of halted events.

    Many subjects (a backlog's batch) are looked up only when the projection
    has a letter at all."""
    if len(subjects) > _FEW_SUBJECTS and not _has_letters(conn, projection):
        return set(), set()
    rows = conn.execute(
        "SELECT subject, event_id, state FROM projection_dead_letters"
        " WHERE projection = %s AND subject = ANY(%s)",
        (projection, [storable(s) for s in subjects]),
    ).fetchall()
    parked = {r[0] for r in rows if r[2] == "parked"}
    return parked, {r[1] for r in rows if r[2] == "halted"}


def forget(conn: Connection, projection: str, event_ids: list[str]) -> None:
    """Delete the letters of events that have now been applied."""
    conn.execute(
        "DELETE FROM projection_dead_letters"
        " WHERE projection = %s AND event_id = ANY(%s)",
        (projection, [storable(i) for i in event_ids]),
    )


def replace_all(conn: Connection, projection: str, letters: list[DeadLetter]) -> None:
    """Replace every letter of ``projection`` by ``letters`` (a rebuild's)."""
    conn.execute(
        "DELETE FROM projection_dead_letters WHERE projection = %s", (projection,)
    )
    for dead in letters:
        record(conn, dead)


_SELECT = sql.SQL(
    "SELECT event_id, record_key, record_value, header_names, header_values,"
    " topic, partition, kafka_offset, error, traceback, position, event_type,"
    " subject, tenant_id, attempts, parked_at, seq FROM projection_dead_letters"
    " WHERE projection = %s AND state = 'parked' AND {}"
)


def _letter(projection: str, row: Any) -> DeadLetter:
    headers = tuple(zip(row[3], row[4], strict=True))
    return DeadLetter(
        projection,
        "parked",
        row[0],
        RawRecord(row[1], row[2], headers),
        Origin(row[5], row[6], row[7]),
        *row[8:],
    )


def parked(
    conn: Connection, projection: str, after: int = 0, limit: int = 500
) -> list[DeadLetter]:
    """Parked letters of ``projection`` after ``seq`` ``after``, in the order
    they were parked, locked for the caller's transaction."""
    rows = conn.execute(
        _SELECT.format(sql.SQL("seq > %s ORDER BY seq LIMIT %s FOR UPDATE")),
        (projection, after, limit),
    ).fetchall()
    return [_letter(projection, r) for r in rows]


def first_of_aggregate(conn: Connection, projection: str, event_id: str) -> str | None:
    """The id of the first parked letter of ``event_id``'s aggregate (itself
    when its aggregate is unknown), or ``None`` if ``event_id`` is not parked."""
    row = conn.execute(
        "SELECT COALESCE((SELECT o.event_id FROM projection_dead_letters o"
        " WHERE o.projection = d.projection AND o.state = 'parked'"
        " AND o.subject = d.subject ORDER BY o.seq LIMIT 1), d.event_id)"
        " FROM projection_dead_letters d"
        " WHERE d.projection = %s AND d.event_id = %s AND d.state = 'parked'",
        (projection, storable(event_id)),
    ).fetchone()
    return None if row is None else str(row[0])


def one(conn: Connection, projection: str, event_id: str) -> DeadLetter:
    """The parked letter ``event_id``, locked for the caller's transaction."""
    row = conn.execute(
        _SELECT.format(sql.SQL("event_id = %s FOR UPDATE")),
        (projection, storable(event_id)),
    ).fetchone()
    if row is None:
        raise LookupError(f"{projection}: no parked event {event_id}")
    return _letter(projection, row)
