"""Everything an as-of fold reads, in one round trip.

A fold of one aggregate as of a version or a time needs the version asked
for (or the one in force at the time: the aggregate's newest event recorded
at or before it, one probe of the index of migration ``0023``), the newest
version, the newest fold snapshot at or below that version, the events after
the snapshot up to the version and one more (its position bounds the related
events), and every event of the related aggregates. :func:`select_fold` asks
Postgres for all of it in one statement; :func:`memory_fold_read` answers
the same from the in-memory twin.

The statement runs on a pooled connection taken without the pool's pre-ping
(a round trip of its own, as long as the statement on an idle machine). A
connection that turns out broken (Postgres restarted since it was pooled)
fails the statement before anything is read; the pool discards it when it is
returned, and the statement runs once more on a connection the pool checks,
so an outage is still reported as one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
import psycopg_pool
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

_TOP = 2**31 - 1


@dataclass(frozen=True)
class FoldQuery:
    """What to read: ``version`` or ``time`` (one of them), and the fold
    snapshots stored under ``key`` (``None``: none)."""

    subject: UUID
    related: tuple[UUID, ...]
    key: UUID | None
    version: int | None = None
    time: datetime | None = None


@dataclass(frozen=True)
class FoldRead:
    """What a fold reads.

    Attributes:
        version: The version asked for, or the one in force at the time
            (``None``: no event recorded by then).
        newest: The aggregate's newest version (0: none stored).
        snapshot: The newest fold snapshot at or below ``version``.
        events: The aggregate's events after the snapshot's version up to
            ``version + 1``, in version order.
        related: Every event of the related aggregates, in position order.
    """

    version: int | None
    newest: int
    snapshot: StoredEvent | None
    events: list[Notification]
    related: list[Notification]


_STATEMENT = """
WITH target AS (
    SELECT CASE WHEN %(time)s::timestamptz IS NULL THEN %(version)s::bigint
        ELSE (SELECT e.originator_version FROM {events} e
              WHERE e.originator_id = %(subject)s
                AND assurehub_event_recorded(e.state) <= %(time)s::timestamptz
              ORDER BY assurehub_event_recorded(e.state) DESC,
                       e.originator_version DESC
              LIMIT 1)
        END AS v
), snap AS (
    SELECT s.originator_version, s.topic, s.state FROM {snapshots} s
    WHERE s.originator_id = %(key)s
      AND s.originator_version <= (SELECT v FROM target)
    ORDER BY s.originator_version DESC LIMIT 1
)
SELECT 'v' AS part, NULL::uuid AS originator_id,
    (SELECT v FROM target) AS originator_version,
    (SELECT max(originator_version) FROM {events}
     WHERE originator_id = %(subject)s) AS notification_id,
    NULL::text AS topic, NULL::bytea AS state
UNION ALL
SELECT 's', NULL, originator_version, NULL, topic, state FROM snap
UNION ALL
(SELECT 'e', e.originator_id, e.originator_version, e.notification_id,
    e.topic, e.state FROM {events} e
 WHERE e.originator_id = %(subject)s
   AND e.originator_version > coalesce((SELECT originator_version FROM snap), 0)
   AND e.originator_version <= (SELECT v FROM target) + 1
 ORDER BY e.originator_version)
UNION ALL
(SELECT 'r', e.originator_id, e.originator_version, e.notification_id,
    e.topic, e.state FROM {events} e
 WHERE e.originator_id = ANY(%(related)s::uuid[])
 ORDER BY e.notification_id)
"""


def select_fold(
    datastore: PostgresDatastore,
    events_table: str,
    snapshots_table: str | None,
    query: FoldQuery,
) -> FoldRead:
    """Read what a fold needs in one statement.

    Raises:
        psycopg.Error: The statement failed (on a checked connection).
    """
    statement = SQL(_STATEMENT).format(
        events=Identifier(events_table),
        snapshots=Identifier(snapshots_table or events_table),
    )
    params = {
        "subject": query.subject,
        "related": list(query.related),
        # no snapshot table: a key no row has (the events' ids are aggregates')
        "key": query.key if snapshots_table else None,
        "version": query.version,
        "time": query.time,
    }
    try:
        with _unpinged(datastore) as conn:
            rows = _fetch(conn, statement, params)
    except psycopg_pool.PoolTimeout:
        raise
    except psycopg.OperationalError:  # a broken connection: once more, checked
        with datastore.pool.connection() as conn:
            rows = _fetch(conn, statement, params)
    return _read(query, rows)


def _fetch(
    conn: psycopg.Connection[DictRow], statement: Any, params: dict[str, Any]
) -> list[DictRow]:
    with conn.cursor() as curs:
        curs.execute(statement, params, prepare=True)
        return curs.fetchall()


@contextmanager
def _unpinged(datastore: PostgresDatastore) -> Iterator[psycopg.Connection[DictRow]]:
    """A pooled connection without the pre-ping (the pool's check), or the
    checked one when this pool cannot hand one out unchecked."""
    pool = datastore.pool
    unchecked = getattr(pool, "_getconn_unchecked", None)
    if unchecked is None:
        with datastore.get_connection() as conn:
            yield conn
        return
    pool.open(
        datastore.pool_open_timeout is not None, datastore.pool_open_timeout or 30.0
    )
    conn = unchecked(pool.timeout)
    try:
        yield conn
        if not conn.closed:
            conn.rollback()  # a read: end its transaction, keep the connection
    finally:
        pool.putconn(conn)


def _read(query: FoldQuery, rows: Sequence[DictRow]) -> FoldRead:
    head = rows[0]
    snapshot = None
    events: list[Notification] = []
    related: list[Notification] = []
    for row in rows[1:]:
        part = row["part"]
        if part == "s":
            snapshot = StoredEvent(
                originator_id=query.key or query.subject,
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            continue
        note = Notification(
            id=row["notification_id"],
            originator_id=row["originator_id"],
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        )
        (events if part == "e" else related).append(note)
    version = head["originator_version"]
    return FoldRead(
        version=None if version is None else int(version),
        newest=int(head["notification_id"] or 0),
        snapshot=snapshot,
        events=events,
        related=related,
    )


def recorded_time(state: bytes) -> datetime | None:
    """An event's own timestamp, read from its stored state as
    ``assurehub_event_recorded`` reads it (``None``: unreadable)."""
    try:
        data = json.loads(state)["timestamp"]["_data_"]
        moment = datetime.fromisoformat(data)
    except (ValueError, KeyError, TypeError):
        return None
    return moment if moment.tzinfo is not None else None


def memory_fold_read(
    stored: Sequence[StoredEvent],
    snapshots: Sequence[StoredEvent],
    query: FoldQuery,
) -> FoldRead:
    """:func:`select_fold` over the in-memory twin's rows: ``stored`` the
    events in position order, ``snapshots`` those stored under the key."""
    mine = [
        (i, s)
        for i, s in enumerate(stored, start=1)
        if s.originator_id == query.subject
    ]
    version = query.version
    if query.time is not None:
        at = query.time
        times = [(recorded_time(s.state), s.originator_version) for _, s in mine]
        found = [(t, v) for t, v in times if t is not None and t <= at]
        version = max(found)[1] if found else None
    newest = max((s.originator_version for _, s in mine), default=0)
    below = [
        s for s in snapshots if version is not None and s.originator_version <= version
    ]
    snapshot = max(below, key=lambda s: s.originator_version, default=None)
    after = 0 if snapshot is None else snapshot.originator_version
    top = _TOP if version is None else version + 1
    related = set(query.related)
    return FoldRead(
        version=version,
        newest=newest,
        snapshot=snapshot,
        events=[
            _note(i, s)
            for i, s in mine
            if version is not None and after < s.originator_version <= top
        ],
        related=[
            _note(i, s)
            for i, s in enumerate(stored, start=1)
            if s.originator_id in related
        ],
    )


def _note(position: int, stored: StoredEvent) -> Notification:
    return Notification(
        id=position,
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=stored.state,
    )
