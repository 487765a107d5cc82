"""The library's recorders, extended with the command side's own records.

Besides the events and their hash chain (:mod:`infra.eventstore.chain`), a
command may record its idempotency key with its answer, index entries that
make aggregates findable by organization and standard, unique claims and
identity side records (:mod:`commands.identity.ports`).
All are written in the transaction that inserts the events, so they exist
exactly when the events do. The one record a command writes without events is
the idempotent answer of a command that changed nothing
(:meth:`FailFastRecorder.record_answer`), in a transaction of its own.
:class:`~infra.eventstore.memory.InMemoryRecorder` does the same in memory for
the event store's test twin.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing import persistence
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor, Pipeline
from psycopg.rows import DictRow, dict_row
from psycopg.sql import SQL, Identifier

from commands.ports import Claim, RecordedAnswer, SideWrites
from infra.eventstore.appends import (
    DRAW,
    Append,
    insert_answer,
    insert_events_statement,
    primary,
    queue_append,
)
from infra.eventstore.chain import linkable
from infra.eventstore.group_commit import MAX_BATCH, GroupCommit, Pending
from infra.postgres.errors import is_unreachable
from infra.postgres.identity_records import write_record
from infra.postgres.person_keys import PostgresPersonKeys

__all__ = ["FailFastRecorder", "claim_key", "primary"]

IDEMPOTENCY_CONSTRAINT = "idempotency_keys_pkey"
CLAIMS_CONSTRAINT = "unique_claims_pkey"


def claim_key(claim: Claim) -> str:
    """How a unique violation names ``claim``: Postgres's detail reads
    ``Key (tenant_id, scope, key)=(<this>) already exists.``"""
    return f"({claim.tenant_id}, {claim.scope}, {claim.key})"


_TRANSLATED: tuple[tuple[type[Exception], type[persistence.PersistenceError]], ...] = (
    (psycopg.IntegrityError, persistence.IntegrityError),
    (psycopg.DataError, persistence.DataError),
    (psycopg.OperationalError, persistence.OperationalError),
    (psycopg.InternalError, persistence.InternalError),
    (psycopg.ProgrammingError, persistence.ProgrammingError),
    (psycopg.DatabaseError, persistence.DatabaseError),
)


def _translated(error: Exception) -> Exception:
    """One append's failure as the library's connection would have raised it
    (its error class, the driver's error as the cause); a refused side record
    as it is."""
    for driver, library in _TRANSLATED:
        if isinstance(error, driver):
            translated = library(str(error))
            translated.__cause__ = error
            return translated
    return error


class FailFastRecorder(PostgresApplicationRecorder):
    """The library's Postgres recorder, without its blind retry loops, writing
    the command's side records in the events' transaction, and gathering the
    concurrent appends of this process into one transaction (group commit).

    Every append still happens under the events table's EXCLUSIVE lock, so
    positions commit in position order and a reader of the log never passes
    a gap that fills later; what the lock serializes is now a batch of
    appends, one commit (and WAL flush) for all of them, instead of each
    append's round trips and commit. Each append of a batch runs in its own
    savepoint: its conflict (a version taken, a key or claim recorded, a side
    record refused) fails that append alone. See :mod:`infra.eventstore.group_commit`.

    The library retries reads and writes ten times, each waiting for the pool
    timeout, so an outage took half a minute to surface. A command answers 503
    promptly instead (callers retry with ``Retry-After``), and the relay's own
    backoff decides how to wait.
    """

    _chaining = True
    """Whether appends extend the hash chain (off only in the benchmark's
    baseline)."""

    max_batch = MAX_BATCH
    """Appends written in one transaction at most."""

    new_keys: PostgresPersonKeys | None = None
    """Where the mapper left the keys it made for new persons (the store
    sets it): they are inserted in the events' transaction."""

    select_events = PostgresApplicationRecorder.select_events.__wrapped__
    select_notifications = PostgresApplicationRecorder.select_notifications.__wrapped__
    max_notification_id = PostgresApplicationRecorder.max_notification_id.__wrapped__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._group: GroupCommit[Append, list[int]] = GroupCommit(
            self._write_batch, self.max_batch
        )
        self._insert = insert_events_statement(
            self.datastore.schema,
            self.events_table_name,
            self.datastore.originator_id_type,
        )
        self._sequence_of = f"{self.datastore.schema}.{self.events_table_name}"

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Append the events with the command's side records (``side``);
        return their positions, in the order given.

        The events are made ready for the chain (payload parsed, canonical
        bytes but for position and previous hash) and the new persons' keys
        taken here, on the caller's thread and outside the lock; the batch is
        written by whichever caller's thread leads it.
        """
        if not stored_events:
            return None
        append = Append(
            stored_events,
            side=kwargs.get("side"),
            linkables=([linkable(e) for e in stored_events] if self._chaining else []),
            new_keys=self.new_keys.take_new() if self.new_keys is not None else [],
        )
        return self._submit(append)

    def _submit(self, append: Append) -> list[int]:
        """Write ``append`` in the next batch; its positions."""
        return self._group.submit(append)

    def _write_batch(self, batch: Sequence[Pending[Append, list[int]]]) -> None:
        """Write the batch and decide each append's outcome.

        First all together (one round trip for the lock, the positions and the
        chain heads, one for every append and the commit); if that fails and
        the batch holds more than one append, again with each append in a
        savepoint of its own, so that the conflict fails its append alone.
        """
        try:
            assigned = self._write_together(batch)
        except Exception as e:
            if is_unreachable(e):
                raise
            if len(batch) > 1:
                self._write_apart(batch)
            else:
                batch[0].fail(_translated(e))
            return
        for pending, mine in zip(batch, assigned, strict=True):
            pending.succeed(mine)

    def _write_together(
        self, batch: Sequence[Pending[Append, list[int]]]
    ) -> list[list[int]]:
        """Write every append of the batch in one transaction, no savepoint;
        their positions (any failure fails the whole transaction)."""
        assigned = []
        with (
            self.datastore.get_connection() as conn,
            conn.pipeline() as pipeline,
            conn.transaction(),
        ):
            curs = conn.cursor()
            ids, found = self._lock_and_draw(curs, pipeline, batch)
            for pending in batch:
                mine = [next(ids) for _ in pending.item.stored_events]
                found = queue_append(curs, self._insert, pending.item, mine, found)
                side = pending.item.side
                for record in side.records if side else ():
                    write_record(curs, record)  # a refusal raises
                assigned.append(mine)
        return assigned

    def _write_apart(self, batch: Sequence[Pending[Append, list[int]]]) -> None:
        """Write the batch in one transaction, each append in a savepoint of
        its own (one round trip each, more with identity records); the
        outcomes are handed out after the commit."""
        written: list[tuple[Pending[Append, list[int]], list[int]]] = []
        with (
            self.datastore.get_connection() as conn,
            conn.pipeline() as pipeline,
            conn.transaction(),
        ):
            curs = conn.cursor()
            ids, found = self._lock_and_draw(curs, pipeline, batch)
            for pending in batch:
                mine = [next(ids) for _ in pending.item.stored_events]
                try:
                    found = self._write_one(pipeline, curs, pending.item, mine, found)
                except Exception as e:  # this append's failure alone
                    if conn.broken or is_unreachable(e):
                        raise
                    pending.fail(_translated(e))
                    continue
                written.append((pending, mine))
        for pending, mine in written:
            pending.succeed(mine)

    def _write_one(
        self,
        pipeline: Pipeline,
        curs: Cursor[DictRow],
        append: Append,
        ids: list[int],
        heads: dict[str, bytes],
    ) -> dict[str, bytes]:
        """Write ``append`` at ``ids`` in a savepoint; return the chain heads
        after it (a failure rolls back to the savepoint and raises)."""
        with curs.connection.transaction():  # a savepoint
            after = queue_append(curs, self._insert, append, ids, heads)
            pipeline.sync()
            records = append.side.records if append.side else ()
            for record in records:
                write_record(curs, record)  # a refusal raises
            if records:
                pipeline.sync()
        return after

    def _lock_and_draw(
        self,
        curs: Cursor[DictRow],
        pipeline: Pipeline,
        batch: Sequence[Pending[Append, list[int]]],
    ) -> tuple[Iterator[int], dict[str, bytes]]:
        """Lock the table, notify, draw the positions of every event of the
        batch and read the chain heads of its tenants (one round trip, one
        prepared statement for positions and heads)."""
        self._lock_table(curs)
        self._notify_channel(curs)
        count = sum(len(p.item.stored_events) for p in batch)
        tenants = sorted({c.tenant_id for p in batch for c in p.item.linkables})
        drawn = curs.connection.cursor(row_factory=dict_row)
        drawn.execute(DRAW, (self._sequence_of, count, tenants), prepare=True)
        pipeline.sync()
        row = drawn.fetchone()
        assert row is not None
        ids = sorted(int(i) for i in row["ids"])
        found = dict(
            zip(row["tenants"] or (), map(bytes, row["hashes"] or ()), strict=True)
        )
        return iter(ids), found

    def record_answer(self, aggregate_id: UUID, version: int, side: SideWrites) -> int:
        """Record the idempotent answer of a command that appended no event,
        in a transaction of its own, and return its position: the head of the
        store now, which is what such a command answers.

        Raises:
            IntegrityError: the key was recorded meanwhile.
        """
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.max_notification_id_statement)
            row = curs.fetchone()
            head = int(row["max"] or 0) if row is not None else 0
            insert_answer(curs, side, aggregate_id, version, head)
        return head

    def recorded_answer(self, tenant_id: str, key: str) -> RecordedAnswer | None:
        """The answer recorded with ``key``, if any."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT fingerprint, aggregate_id, version, position, outcome"
                " FROM idempotency_keys WHERE tenant_id = %s AND key = %s",
                (tenant_id, key),
            )
            row = curs.fetchone()
        if row is None:
            return None
        return RecordedAnswer(
            row["fingerprint"],
            row["aggregate_id"],
            row["version"],
            row["position"],
            row["outcome"],
        )

    def find(
        self, tenant_id: str, kind: str, organization_id: UUID, standard_name: str
    ) -> list[UUID]:
        """Indexed aggregate ids, oldest first."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT aggregate_id FROM aggregate_index WHERE tenant_id = %s"
                " AND kind = %s AND organization_id = %s AND standard_name = %s"
                " ORDER BY recorded_at, aggregate_id",
                (tenant_id, kind, organization_id, standard_name),
            )
            return [row["aggregate_id"] for row in curs.fetchall()]

    def aggregate_notifications(
        self, aggregate_id: UUID, after: int, upto: int | None
    ) -> list[Notification]:
        """The aggregate's events with versions in ``(after, upto]`` (no upper
        bound when ``upto`` is ``None``), each with its global position."""
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic,"
            " state FROM {table} WHERE originator_id = %s"
            " AND originator_version > %s AND originator_version <= %s"
            " ORDER BY originator_version"
        ).format(table=Identifier(self.events_table_name))
        top = 2**31 - 1 if upto is None else upto
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (aggregate_id, after, top), prepare=False)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def aggregate_version(self, aggregate_id: UUID) -> int:
        """The aggregate's newest version (0: no event)."""
        statement = SQL(
            "SELECT max(originator_version) AS v FROM {table} WHERE originator_id = %s"
        ).format(table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (aggregate_id,), prepare=False)
            row = curs.fetchone()
            return int(row["v"] or 0) if row is not None else 0
