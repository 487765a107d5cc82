"""Replaying parked records after a fix (``assurehub projections replay``).

Each parked record's own bytes are read again as the runner reads a record
(:func:`infra.projection.parking.reread`): one that now decodes to an event
of a known type is applied in a savepoint and its letter deleted; one that
fails again (or still does not decode) stays parked with its new error, and
the later letters of its aggregate stay behind it. Letters go in the order
they were parked, which within one aggregate is its delivery order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from infra.errors import InfrastructureError
from infra.postgres import dead_letters
from infra.postgres.dead_letters import DeadLetter
from infra.postgres.pool import Connection, Database
from infra.postgres.projection_schemas import (
    check_shape,
    lock_exclusive,
    stored_fingerprint,
)
from infra.postgres.rows import PostgresRows, schema_name
from infra.projection import parking
from projections.ports import TableProjection


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
    first = dead_letters.first_of_aggregate(conn, projection, event_id)
    if first is None:
        raise ReplayRefusedError(f"{projection}: no parked event {event_id}")
    if first != dead_letters.storable(event_id):
        raise ReplayRefusedError(
            f"{projection}: event {event_id} waits for {first} of the same"
            " aggregate; replay that one first (or use --all)"
        )
    return dead_letters.one(conn, projection, event_id)


def _replay_one(
    conn: Connection,
    projection: TableProjection,
    rows: PostgresRows,
    dead: DeadLetter,
) -> str | None:
    """Apply one parked record; return its new error (``None``: applied)."""
    delivery = parking.reread(dead)
    error: BaseException | str | None = delivery.problem
    if error is None and delivery.envelope is not None:
        error = dead_letters.apply_guarded(conn, projection, rows, delivery.envelope)
    if error is None:
        dead_letters.forget(conn, projection.name, [dead.event_id])
        return None
    again = parking.letter(projection.name, delivery, error)
    dead_letters.record(conn, dataclasses.replace(again, event_id=dead.event_id))
    return again.error


def _replay_chunk(
    conn: Connection,
    projection: TableProjection,
    letters: list[DeadLetter],
    result: ReplayResult,
    failed_subjects: set[str],
) -> None:
    rows = PostgresRows(conn, schema_name(projection.name), projection.tables)
    for dead in letters:
        if dead.subject is not None and dead.subject in failed_subjects:
            result.waiting.append(dead.event_id)
            continue
        error = _replay_one(conn, projection, rows, dead)
        if error is None:
            result.applied.append(dead.event_id)
        else:
            result.failed[dead.event_id] = error
            if dead.subject is not None:
                failed_subjects.add(dead.subject)


def replay(
    database: Database,
    projection: TableProjection,
    event_id: str | None = None,
    chunk: int = 500,
) -> ReplayResult:
    """Apply ``projection``'s parked records (all, or one) in parking order.

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
                    letters = dead_letters.parked(conn, projection.name, after, chunk)
                _replay_chunk(conn, projection, letters, result, failed_subjects)
            if event_id is not None or len(letters) < chunk:
                return result
            after = letters[-1].seq
