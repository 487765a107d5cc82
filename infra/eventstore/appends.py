"""What one append writes, once its positions are drawn: the events, their
hash chain links, the data keys of new persons sealed in them, and the
command's side records (idempotent answer, index entries, unique claims,
identity records).

:class:`Append` is prepared on the calling thread, outside the events table's
lock (the payloads parsed for the chain, the new keys taken); the recorder's
group commit (:mod:`infra.eventstore.group_commit`) then writes a batch of
them under the lock, each with :func:`queue_append` in a savepoint of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from commands.ports import SideWrites
from infra.erasure.wrapping import StoredKey
from infra.eventstore.chain import ChainLink, Linkable, chain_links
from infra.postgres.person_keys import insert_keys_statement, key_parameters

DRAW = (
    "SELECT (SELECT array_agg(nextval(pg_get_serial_sequence(%s::text,"
    " 'notification_id'))) FROM generate_series(1, %s::integer)) AS ids,"
    " h.tenants, h.hashes"
    " FROM (SELECT array_agg(t.tenant_id) AS tenants, array_agg(c.hash) AS hashes"
    " FROM unnest(%s::text[]) AS t (tenant_id) CROSS JOIN LATERAL"
    " (SELECT e.hash FROM event_chain e WHERE e.tenant_id = t.tenant_id"
    " ORDER BY e.position DESC LIMIT 1) AS c) AS h"
)
"""The positions of a batch's events (parameters: the events table, how
many) and the newest hash of each of its tenants (parameter: their ids;
one backward index probe each), drawn and read under the table's lock."""


@dataclass
class Append:
    """One command's append, prepared outside the lock."""

    stored_events: Sequence[StoredEvent]
    side: SideWrites | None = None
    linkables: list[Linkable] = field(default_factory=list)
    """What linking each event needs (empty: not chained)."""
    new_keys: list[tuple[str, UUID, StoredKey]] = field(default_factory=list)
    """Data keys of persons the events were sealed for first."""


def primary(stored_events: Sequence[StoredEvent]) -> tuple[UUID, int]:
    """The command's own aggregate (the first one saved) and its new version:
    what an idempotent retry is answered with, whatever else was saved."""
    first = stored_events[0].originator_id
    version = max(
        e.originator_version for e in stored_events if e.originator_id == first
    )
    return UUID(str(first)), version


def insert_events_statement(schema: str, table: str, id_type: str) -> str:
    """Insert events at positions drawn beforehand (in the given order, so the
    feed's trigger sees an aggregate's events oldest first)."""
    statement = SQL(
        "INSERT INTO {schema}.{table} (originator_id, originator_version, topic,"
        " state, notification_id) SELECT * FROM unnest(%s::{id_type}[],"
        " %s::bigint[], %s::text[], %s::bytea[], %s::bigint[])"
    ).format(
        schema=Identifier(schema),
        table=Identifier(table),
        id_type=Identifier(id_type),
    )
    return statement.as_string()


@lru_cache(maxsize=256)
def append_statement(insert: str, links: int, keys: int) -> str:
    """One statement writing the events and, with them, their ``links`` chain
    links and ``keys`` new persons' keys (parameters in that order, the rows
    as scalars): each statement queued costs the driver a parse and a
    round-trip step, and each array parameter an inspection of its items, so
    an append is one statement. The text is made once per shape, and
    prepared by Postgres once per shape and connection (see
    :func:`queue_append`)."""
    writes = []
    if links:
        writes.append(_insert_links_statement(links))
    if keys:
        writes.append(insert_keys_statement(keys))
    if not writes:
        return insert
    steps = [insert, *writes[:-1]]
    with_ = ", ".join(f"w{n} AS ({step})" for n, step in enumerate(steps))
    return f"WITH {with_} {writes[-1]}"


def statement_of(insert: str, append: Append) -> str:
    """The statement ``append`` is written with."""
    return append_statement(insert, len(append.linkables), len(append.new_keys))


def queue_append(
    curs: Cursor[DictRow],
    insert: str,
    append: Append,
    ids: Sequence[int],
    heads: Mapping[str, bytes],
) -> dict[str, bytes]:
    """Queue (pipelined) everything ``append`` writes at positions ``ids``
    except its identity records; return the chain heads after it (``heads``
    continued by its links).

    The append statement is prepared (parsed and planned once per shape and
    connection; unprepared, Postgres spent a third of the statement's time
    planning it). A prepared statement queued behind a failure in the
    pipeline is skipped, and psycopg then forgets it was prepared (a test
    holds it to that); the side records stay unprepared, being rare."""
    events = append.stored_events
    params: list[Any] = [
        [e.originator_id for e in events],
        [e.originator_version for e in events],
        [e.topic for e in events],
        [e.state for e in events],
        list(ids),
    ]
    after = dict(heads)
    if append.linkables:
        links = chain_links(append.linkables, ids, heads)
        params += _link_parameters(links)
        after.update((link.tenant_id, link.hash) for link in links)
    if append.new_keys:
        params += key_parameters(append.new_keys)
    curs.execute(statement_of(insert, append), params, prepare=True)
    side = append.side
    if side is not None:
        _queue_side(curs, side, events, max(ids))
    return after


def _insert_links_statement(count: int) -> str:
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * count)
    return (
        "INSERT INTO event_chain (position, tenant_id, recorded_at,"  # noqa: S608 (placeholders only)
        f" previous_hash, hash) VALUES {rows}"
    )


def _link_parameters(links: Sequence[ChainLink]) -> list[Any]:
    return [
        value
        for link in links
        for value in (
            link.position,
            link.tenant_id,
            link.recorded_at,
            link.previous_hash,
            link.hash,
        )
    ]


def insert_answer(
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


def _queue_side(
    curs: Cursor[DictRow],
    side: SideWrites,
    events: Sequence[StoredEvent],
    position: int,
) -> None:
    """The idempotent answer, index entries and unique claims. A duplicate
    key fails at the next sync, as IntegrityError; none is prepared (psycopg
    would take a statement skipped after the failure for prepared)."""
    aggregate_id, version = primary(events)
    if side.idempotency is not None:
        insert_answer(curs, side, aggregate_id, version, position)
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
            (claim.tenant_id, claim.scope, claim.key, aggregate_id),
            prepare=False,
        )
