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

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow, dict_row
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from commands.ports import Claim, RecordedAnswer, SideWrites
from infra.eventstore.chain import Chained, ChainLink, chain_links, read_payload
from infra.postgres.identity_records import write_record
from infra.postgres.person_keys import PostgresPersonKeys, insert_key

IDEMPOTENCY_CONSTRAINT = "idempotency_keys_pkey"
CLAIMS_CONSTRAINT = "unique_claims_pkey"


def claim_key(claim: Claim) -> str:
    """How a unique violation names ``claim``: Postgres's detail reads
    ``Key (tenant_id, scope, key)=(<this>) already exists.``"""
    return f"({claim.tenant_id}, {claim.scope}, {claim.key})"


def primary(stored_events: Sequence[StoredEvent]) -> tuple[UUID, int]:
    """The command's own aggregate (the first one saved) and its new version:
    what an idempotent retry is answered with, whatever else was saved."""
    first = stored_events[0].originator_id
    version = max(
        e.originator_version for e in stored_events if e.originator_id == first
    )
    return UUID(str(first)), version


def _insert_answer(
    curs: Cursor[DictRow],
    side: SideWrites,
    aggregate_id: UUID,
    version: int,
    position: int,
) -> None:
    """Insert the command's idempotency key with its answer."""
    assert side.idempotency is not None
    curs.execute(
        "INSERT INTO idempotency_keys (tenant_id, key, fingerprint,"
        " aggregate_id, version, position, outcome)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            side.idempotency.tenant_id,
            side.idempotency.key,
            side.idempotency.fingerprint,
            aggregate_id,
            version,
            position,
            Jsonb(side.outcome),
        ),
        prepare=False,
    )


_HEADS = (
    "SELECT t.tenant_id, h.hash FROM unnest(%s::text[]) AS t (tenant_id)"
    " CROSS JOIN LATERAL (SELECT c.hash FROM event_chain c"
    " WHERE c.tenant_id = t.tenant_id ORDER BY c.position DESC LIMIT 1) AS h"
)
"""Each tenant's newest hash: one backward index probe per tenant."""


@dataclass
class _PendingChain:
    """What the chain step reads while the events are being inserted."""

    payloads: list[Chained]
    heads: Cursor[DictRow]


def _insert_links(curs: Cursor[DictRow], links: Sequence[ChainLink]) -> None:
    """Queue the chain rows (pipelined: they are sent with the commit)."""
    curs.execute(
        "INSERT INTO event_chain (position, tenant_id, recorded_at,"
        " previous_hash, hash) SELECT * FROM unnest("
        "%s::bigint[], %s::text[], %s::timestamptz[], %s::bytea[], %s::bytea[])",
        (
            [link.position for link in links],
            [link.tenant_id for link in links],
            [link.recorded_at for link in links],
            [link.previous_hash for link in links],
            [link.hash for link in links],
        ),
        prepare=False,
    )


class FailFastRecorder(PostgresApplicationRecorder):
    """The library's Postgres recorder, without its blind retry loops, and
    writing the command's side records in the events' transaction.

    The library retries reads and writes ten times, each waiting for the pool
    timeout, so an outage took half a minute to surface. A command answers 503
    promptly instead (callers retry with ``Retry-After``), and the relay's own
    backoff decides how to wait.
    """

    _chaining = True
    """Whether appends extend the hash chain (off only in the benchmark's
    baseline)."""

    new_keys: PostgresPersonKeys | None = None
    """Where the mapper left the keys it made for new persons (the store
    sets it): they are inserted in the events' transaction."""

    insert_events = PostgresApplicationRecorder.insert_events.__wrapped__
    select_events = PostgresApplicationRecorder.select_events.__wrapped__
    select_notifications = PostgresApplicationRecorder.select_notifications.__wrapped__
    max_notification_id = PostgresApplicationRecorder.max_notification_id.__wrapped__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One append at a time per thread: what its chain step read. An
        # append that fails leaves it behind, and the thread's next append
        # replaces it before reading it.
        self._chain_step = threading.local()

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """Lock, insert the events, and ask for each tenant's chain head in
        the same pipeline (read under the lock, answered with the ids)."""
        chaining = bool(stored_events) and self._chaining
        # (parsed before the lock is queued: only hashing happens under it)
        payloads = [read_payload(e.state) for e in stored_events] if chaining else []
        super()._insert_stored_events(curs, stored_events, **kwargs)
        if chaining:
            heads = curs.connection.cursor(row_factory=dict_row)
            tenants = sorted({p.tenant_id for p in payloads})
            heads.execute(_HEADS, (tenants,), prepare=False)
            self._chain_step.pending = _PendingChain(payloads, heads)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Chain the events, insert the data keys of new persons the events
        were sealed with, and write the side records once the events'
        positions are known."""
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        pending: _PendingChain | None = getattr(self._chain_step, "pending", None)
        self._chain_step.pending = None
        if ids and pending is not None:
            with pending.heads as heads:
                found = {r["tenant_id"]: bytes(r["hash"]) for r in heads.fetchall()}
            links = chain_links(stored_events, pending.payloads, ids, found)
            _insert_links(curs, links)
        if self.new_keys is not None:
            for tenant_id, person_id, key in self.new_keys.take_new():
                insert_key(curs, tenant_id, person_id, key)
        side: SideWrites | None = kwargs.get("side")
        # (equal only when there is nothing to write: no records either)
        if side is None or not ids or side == SideWrites(outcome=side.outcome):
            return ids
        with curs.connection.pipeline() as pipeline:
            if side.idempotency is not None:
                aggregate_id, version = primary(stored_events)
                _insert_answer(curs, side, aggregate_id, version, max(ids))
            for entry in side.index:
                curs.execute(
                    "INSERT INTO aggregate_index (tenant_id, kind, organization_id,"
                    " standard_name, aggregate_id) VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    (
                        entry.tenant_id,
                        entry.kind,
                        entry.organization_id,
                        entry.standard_name,
                        entry.aggregate_id,
                    ),
                    prepare=False,
                )
            for claim in side.claims:
                curs.execute(
                    "INSERT INTO unique_claims (tenant_id, scope, key, aggregate_id)"
                    " VALUES (%s, %s, %s, %s)",
                    (
                        claim.tenant_id,
                        claim.scope,
                        claim.key,
                        primary(stored_events)[0],
                    ),
                    prepare=False,
                )
            # A duplicate key fails here, as IntegrityError, and the statements
            # queued after it are skipped: none of them is prepared (psycopg
            # would take a skipped one for prepared, and the connection's next
            # use of it would fail with "prepared statement does not exist").
            pipeline.sync()
            for record in side.records:
                write_record(curs, record)  # a refusal aborts the transaction
            pipeline.sync()
        return ids

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
            _insert_answer(curs, side, aggregate_id, version, head)
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
