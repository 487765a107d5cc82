"""Reading history from the event store: one aggregate's events by version,
or one tenant's events by position (the trail), in their public JSON.

Each row's entry is made straight from its JSON
(:meth:`~infra.streaming.stored_envelopes.StoredEnvelopes.parts`: the fields
the relay's envelope would hold, without the envelope); a row the fast path
does not take (an event stored at an older schema version, to be upcast) is
decoded and made into its envelope first. Either way the entry holds the
change, who made it (their display name as their account recorded it), the
schema version it was stored at, and the names of personal fields the viewer
may not see (answered ``null``). Streams encode each batch's JSON Lines as
the entries are shaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar, cast
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from psycopg import sql

from domain.account import Account
from infra.eventstore.store import EVENTS_TABLE, LibraryEventStore
from infra.history.catalog import Catalog, catalog
from infra.history.encoding import LINE, Entry, entry_json
from infra.history.query import HistoryQuery
from infra.postgres.pool import Database
from infra.streaming.public_events import event_id_of, personal_data, to_envelope
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.envelope import EventEnvelope

_T = TypeVar("_T")
_COLUMNS = "originator_id, originator_version, topic, state, notification_id"
_INVITED = get_topic(Account.Invited)
_TYPES: dict[str, tuple[str, int, str]] = {}
"""Public type → (type, schema version, aggregate type), worked out once."""


@dataclass(frozen=True)
class Viewer:
    """Who reads the history, for what they may see of other people.

    Attributes:
        actor_id: The reader; their own personal data is never hidden.
        sees_personal: May see other people's personal fields.
    """

    actor_id: str
    sees_personal: bool


@dataclass(frozen=True)
class Page:
    """One page of entries and the cursor of the next, if there is one."""

    entries: list[Entry]
    next_after: int | None


class PostgresHistory:
    """History and trail reads over the events table.

    Args:
        database: The pool for reads (the events table is in the same database).
        store: The event store whose mapper wrote the rows (decoding).
        source: ``ce_source`` of the envelopes.
        batch_size: Rows fetched at a time when streaming.
    """

    def __init__(
        self,
        database: Database,
        store: LibraryEventStore,
        source: str,
        batch_size: int = 1_000,
    ) -> None:
        self._db = database
        self._store = store
        self._envelopes = StoredEnvelopes(store, source)
        self._source = source
        self._catalog: Catalog = catalog()
        self._batch_size = batch_size

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    def aggregate_page(
        self, aggregate_id: UUID, query: HistoryQuery, viewer: Viewer
    ) -> Page:
        """Events of ``aggregate_id`` after version ``query.after``."""
        statement, params = self._aggregate(aggregate_id, query)
        return self._page(statement, params, query, viewer, "version")

    def trail_page(self, tenant_id: str, query: HistoryQuery, viewer: Viewer) -> Page:
        """Events of ``tenant_id`` after position ``query.after``."""
        statement, params = self._trail(tenant_id, query)
        return self._page(statement, params, query, viewer, "position")

    def aggregate_batches(
        self, aggregate_id: UUID, query: HistoryQuery, viewer: Viewer
    ) -> Generator[list[Entry], None, None]:
        """Every matching event of ``aggregate_id``, a batch at a time."""
        return self._stream(*self._aggregate(aggregate_id, query), viewer, _entries)

    def aggregate_lines(
        self, aggregate_id: UUID, query: HistoryQuery, viewer: Viewer
    ) -> Generator[bytes, None, None]:
        """:meth:`aggregate_batches` as JSON Lines, a batch at a time."""
        return self._stream(*self._aggregate(aggregate_id, query), viewer, _lines)

    def trail_batches(
        self, tenant_id: str, query: HistoryQuery, viewer: Viewer
    ) -> Generator[list[Entry], None, None]:
        """Every matching event of ``tenant_id``, a batch at a time, through a
        server-side cursor (one pooled connection for the whole stream)."""
        return self._stream(*self._trail(tenant_id, query), viewer, _entries)

    def trail_lines(
        self, tenant_id: str, query: HistoryQuery, viewer: Viewer
    ) -> Generator[bytes, None, None]:
        """:meth:`trail_batches` as JSON Lines, a batch at a time: each line
        is encoded as soon as its entry is shaped (no batch of entries)."""
        return self._stream(*self._trail(tenant_id, query), viewer, _lines)

    def _aggregate(
        self, aggregate_id: UUID, query: HistoryQuery
    ) -> tuple[sql.Composed, list[Any]]:
        return self._statement(
            sql.SQL("originator_id = %s"), [aggregate_id], "originator_version", query
        )

    def _trail(
        self, tenant_id: str, query: HistoryQuery
    ) -> tuple[sql.Composed, list[Any]]:
        scope: sql.Composable = sql.SQL("assurehub_event_tenant(state) = %s")
        params: list[Any] = [tenant_id]
        if query.aggregate_id is not None:
            scope = sql.SQL("{} AND originator_id = %s").format(scope)
            params.append(query.aggregate_id)
        if query.aggregate_types:
            scope = sql.SQL("{} AND topic = ANY(%s)").format(scope)
            params.append(self._catalog.topics_of_aggregates(query.aggregate_types))
        return self._statement(scope, params, "notification_id", query)

    def _statement(
        self, scope: sql.Composable, params: list[Any], key: str, query: HistoryQuery
    ) -> tuple[sql.Composed, list[Any]]:
        where = [scope, sql.SQL("{} > %s").format(sql.Identifier(key))]
        params = [*params, query.after]
        if query.types:
            where.append(sql.SQL("topic = ANY(%s)"))
            params.append(self._catalog.topics_of_types(query.types))
        if query.actor is not None:
            where.append(sql.SQL("assurehub_event_actor(state) = %s"))
            params.append(query.actor)
        if query.recorded_from is not None:
            where.append(sql.SQL("assurehub_event_time(state) >= %s"))
            params.append(query.recorded_from)
        if query.recorded_to is not None:
            where.append(sql.SQL("assurehub_event_time(state) < %s"))
            params.append(query.recorded_to)
        statement = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {}").format(
            sql.SQL(_COLUMNS),
            sql.Identifier(EVENTS_TABLE),
            sql.SQL(" AND ").join(where),
            sql.Identifier(key),
        )
        if query.limit is not None:
            statement = sql.SQL("{} LIMIT %s").format(statement)
            params.append(query.limit + 1)
        return statement, params

    def _page(
        self,
        statement: sql.Composed,
        params: list[Any],
        query: HistoryQuery,
        viewer: Viewer,
        key: str,
    ) -> Page:
        with self._db.connection() as conn:
            rows = conn.execute(statement, params, binary=True).fetchall()
            limit = query.limit if query.limit is not None else len(rows)
            names: dict[str, str | None] = {}
            made = self._batch(conn, rows[:limit], viewer, names)
        entries = _entries(made, names, viewer)
        more = len(rows) > limit and entries
        return Page(entries, entries[-1][key] if more else None)

    def _stream(
        self,
        statement: sql.Composed,
        params: list[Any],
        viewer: Viewer,
        shape: Callable[[list[_Made], dict[str, str | None], Viewer], _T],
    ) -> Generator[_T, None, None]:
        names: dict[str, str | None] = {}
        with (
            self._db.connection() as conn,
            conn.transaction(),
            conn.cursor(name=f"history_{uuid4().hex}", binary=True) as cur,
        ):
            cur.execute(statement, params)
            while rows := cur.fetchmany(self._batch_size):
                yield shape(self._batch(conn, rows, viewer, names), names, viewer)

    def _batch(
        self,
        conn: Any,
        rows: list[Any],
        viewer: Viewer,
        names: dict[str, str | None],
    ) -> list[_Made]:
        """The parts of the rows' entries, personal fields opened for
        ``viewer`` where they may see them; ``names`` gets every actor's."""
        made = [self._made(row) for row in rows]
        unknown = {m.actor_id for m in made} - names.keys()
        if unknown:
            names.update(_account_names(conn, self._store, unknown))
        return [self._opened(m, viewer) for m in made]

    def _opened(self, made: _Made, viewer: Viewer) -> _Made:
        """``made`` with its sealed personal fields opened (``"[erased]"``
        once the person's key is destroyed) when ``viewer`` may see them;
        otherwise as stored, for :func:`_shaped` to hide."""
        if made.personal and _sees(made, viewer):
            data = personal_data(
                made.public_type,
                made.subject,
                made.tenant_id,
                made.data,
                self._store.personal,
                reveal=True,
            )
            return made._replace(data=data)
        return made

    def _made(self, row: Any) -> _Made:
        """The parts of one row's entry: straight from its JSON where
        :meth:`StoredEnvelopes.parts` applies, else from the envelope of the
        decoded (upcast) event."""
        originator_id, version, topic, state, position = row
        state = bytes(state)
        parts = None
        if type(originator_id) is UUID:
            parts = self._envelopes.parts(topic, state)
        if parts is not None:
            meta = parts.meta
            return _Made(
                position,
                version,
                str(originator_id),
                parts.type,
                parts.stored_version,
                self._catalog.kind(topic).personal,
                meta["tenant_id"],
                meta["actor_id"],
                meta["correlation_id"],
                meta["causation_id"],
                parts.time,
                parts.data,
            )
        stored = StoredEvent(originator_id, version, topic, state)
        event = self._store.decode(stored)
        kind = self._catalog.kind(topic, event)
        stored_version = json.loads(stored.state).get("class_version", 1)
        envelope = to_envelope(event, position, self._source)
        return _made_of(envelope, stored_version, kind.personal)


class _Made(NamedTuple):
    """What an entry is shaped from (an envelope's parts, time as text)."""

    position: int
    version: int
    subject: str
    public_type: str
    stored_version: int
    personal: frozenset[str]
    tenant_id: str
    actor_id: str
    correlation_id: str
    causation_id: str
    time: str
    data: dict[str, Any]


def _made_of(
    envelope: EventEnvelope, stored_version: int, personal: frozenset[str]
) -> _Made:
    return _Made(
        envelope.position,
        envelope.aggregate_version,
        envelope.subject,
        envelope.type,
        stored_version,
        personal,
        envelope.tenant_id,
        envelope.actor_id,
        envelope.correlation_id,
        envelope.causation_id,
        envelope.time.isoformat(),
        envelope.data,
    )


def _entries(
    made: list[_Made], names: dict[str, str | None], viewer: Viewer
) -> list[Entry]:
    return [_shaped(m, names, viewer) for m in made]


def _lines(made: list[_Made], names: dict[str, str | None], viewer: Viewer) -> bytes:
    return b"".join([entry_json(_shaped(m, names, viewer), LINE) for m in made])


def _sees(made: _Made, viewer: Viewer) -> bool:
    """Whether ``viewer`` sees the personal fields of ``made``: theirs (as
    actor, e.g. the address they read from, or as subject, an account's
    e-mail) are never hidden from them."""
    return viewer.sees_personal or viewer.actor_id in (made.actor_id, made.subject)


def _public(
    envelope: EventEnvelope,
    stored_version: int,
    personal: frozenset[str],
    names: dict[str, str | None],
    viewer: Viewer,
) -> Entry:
    """The history entry of one envelope, as ``viewer`` may see it."""
    return _shaped(_made_of(envelope, stored_version, personal), names, viewer)


def _shaped(made: _Made, names: dict[str, str | None], viewer: Viewer) -> Entry:
    """The history entry of ``made``, as ``viewer`` may see it."""
    public_type = made.public_type
    parts = _TYPES.get(public_type)
    if parts is None:
        name, _, schema = public_type[len("assurehub.") :].rpartition(".v")
        parts = _TYPES[public_type] = (name, int(schema), name.split(".", 1)[0])
    name, version, aggregate_type = parts
    acted = made.actor_id == viewer.actor_id
    data = made.data
    redacted: list[str] = []
    personal = made.personal
    if personal and not _sees(made, viewer):
        redacted = sorted(p for p in personal if data.get(p) is not None)
        data = {k: (None if k in personal else v) for k, v in data.items()}
    return {
        "position": made.position,
        "version": made.version,
        "id": event_id_of(made.subject, made.version),
        "type": name,
        "public_type": public_type,
        "schema_version": version,
        "stored_schema_version": made.stored_version,
        "recorded_at": made.time,
        "aggregate_type": aggregate_type,
        "aggregate_id": made.subject,
        "actor": {
            "id": made.actor_id,
            "name": names.get(made.actor_id) if viewer.sees_personal or acted else None,
        },
        "correlation_id": made.correlation_id,
        "causation_id": made.causation_id,
        "data": data,
        "redacted": redacted,
    }


def _account_names(
    conn: Any, store: LibraryEventStore, actor_ids: Iterable[str]
) -> dict[str, str | None]:
    """Display names of the actors that are accounts (from the invitation
    that created each account; ``None`` for others, e.g. ``system:…``)."""
    names: dict[str, str | None] = dict.fromkeys(actor_ids)
    ids = []
    for actor in names:
        try:
            ids.append(UUID(actor))
        except ValueError:
            continue
    if not ids:
        return names
    rows = conn.execute(
        sql.SQL(
            "SELECT originator_id, originator_version, topic, state FROM {}"
            " WHERE originator_id = ANY(%s) AND originator_version = 1"
            " AND topic = %s"
        ).format(sql.Identifier(EVENTS_TABLE)),
        (ids, _INVITED),
    ).fetchall()
    for originator_id, version, topic, state in rows:
        stored = StoredEvent(originator_id, version, topic, bytes(state))
        event = cast(Account.Invited, store.decode(stored))
        name = {"name": str(getattr(event, "name", ""))}
        store.personal.open(event.meta.tenant_id, originator_id, name)
        names[str(originator_id)] = name["name"] or None
    return names
