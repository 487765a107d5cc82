"""The HTTP event feed's reader: one tenant's stored events after a position.

Reads the event store's rows (joined with the ``event_feed`` index the
store's insert trigger writes, migration 0040) in position order and makes
of each the CloudEvent of the public envelope the relay publishes to Kafka,
so the feed, the topic and webhooks carry the same CloudEvents:
:meth:`EventFeed.page` straight from the rows
(:class:`~infra.streaming.stored_cloudevents.StoredCloudEvents`), which is
what the HTTP feed answers; :meth:`EventFeed.read` through the envelopes
(:class:`~infra.streaming.stored_envelopes.StoredEnvelopes`).

**No gaps, no duplicates.** The store's insert takes an EXCLUSIVE lock on
the events table and holds it until commit, and a position is drawn under
that lock, so positions become visible in increasing order: when a reader
sees position P, every lower position that will ever exist is already
visible. A page read after ``after`` therefore never passes an event that
commits later, and a reader resuming after the last position it received
gets each event once (``tests/integration/test_event_feed.py`` reads the
feed while 8 writers append). A faster insert path that does not serialize
commits would break this and must bring its own proof.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from infra.eventstore.store import LibraryEventStore
from infra.postgres.pool import Database
from infra.streaming.event_schemas import EVENT_CLASSES
from infra.streaming.personal_fields import masked
from infra.streaming.public_events import personal_view, public_type
from infra.streaming.stored_cloudevents import Row, StoredCloudEvents
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.envelope import EventEnvelope

_READ = (  # ``after`` bounds both sides: each page's scans start there
    "SELECT e.notification_id, e.originator_id::text, e.originator_version, e.topic,"
    " e.state FROM event_feed f JOIN assurehub_events e"
    " ON e.notification_id = f.position"
    " WHERE f.tenant_id = %(tenant)s AND f.position > %(after)s"
    " AND e.notification_id > %(after)s"
    " AND (%(topics)s::text[] IS NULL OR e.topic = ANY(%(topics)s::text[]))"
    " AND (%(organizations)s::uuid[] IS NULL"
    "      OR f.organization_id = ANY(%(organizations)s::uuid[]))"
    " AND (%(aggregates)s::uuid[] IS NULL"
    "      OR f.aggregate_id = ANY(%(aggregates)s::uuid[]))"
    " ORDER BY f.position LIMIT %(limit)s"
)


@cache
def topics_by_type() -> dict[str, tuple[str, ...]]:
    """Public type (at its current version) → the stored topics of its class."""
    return {public_type(c): (get_topic(c),) for c in EVENT_CLASSES}


@cache
def topics_by_aggregate_type() -> dict[str, tuple[str, ...]]:
    """Aggregate type (``organization``, ``audit``, …) → its events' topics."""
    found: dict[str, list[str]] = {}
    for event_class in EVENT_CLASSES:
        found.setdefault(event_class.TYPE.split(".")[0], []).append(
            get_topic(event_class)
        )
    return {name: tuple(topics) for name, topics in sorted(found.items())}


@dataclass(frozen=True)
class FeedQuery:
    """What one read of the feed asks for.

    Attributes:
        tenant_id: Only this tenant's events.
        after: Events at positions above this one.
        limit: At most this many.
        topics: Only events stored under these topics (``None``: all).
        organization_ids: Only events concerning these organizations
            (``None``: no limit; an empty set: none).
        aggregate_ids: Only events of these aggregates (``None``: no limit).
    """

    tenant_id: str
    after: int
    limit: int
    topics: frozenset[str] | None = None
    organization_ids: frozenset[UUID] | None = None
    aggregate_ids: frozenset[UUID] | None = None


class EventFeed:
    """Reads the feed from the Postgres event store.

    Args:
        database: The pool of our own tables (the events table is in the
            same database).
        store: The event store whose mapper wrote the rows.
        source: ``ce_source`` of the envelopes.
    """

    def __init__(self, database: Database, store: LibraryEventStore, source: str):
        self._db = database
        self._envelopes = StoredEnvelopes(store, source)
        self._cloudevents = StoredCloudEvents(store, self._envelopes, source)
        self._store = store

    def page(self, query: FeedQuery, *, personal: bool = False) -> list[dict[str, Any]]:
        """The structured CloudEvents of the events ``query`` selects, in
        position order, made straight from the rows: each the same as
        ``structured()`` of the matching :meth:`read` envelope.

        Raises:
            DependencyUnavailableError: Postgres cannot be reached.
        """
        return self._cloudevents.events(self._rows(query), personal=personal)

    def read(self, query: FeedQuery, *, personal: bool = False) -> list[EventEnvelope]:
        """The events ``query`` selects, in position order: personal fields
        opened (``"[erased]"`` once the person's key is destroyed) if
        ``personal``, else ``null``.

        Raises:
            DependencyUnavailableError: Postgres cannot be reached.
        """
        rows = self._rows(query)
        if personal:
            return [
                personal_view(e, self._store.personal, reveal=True)
                for e in self._envelopes_of(rows)
            ]
        return [masked(e) for e in self._envelopes_of(rows)]

    def _rows(self, query: FeedQuery) -> list[Row]:
        def listed(values: frozenset[Any] | None) -> list[Any] | None:
            return None if values is None else sorted(values, key=str)

        params = {
            "tenant": query.tenant_id,
            "after": query.after,
            "topics": listed(query.topics),
            "organizations": listed(query.organization_ids),
            "aggregates": listed(query.aggregate_ids),
            "limit": query.limit,
        }
        with self._db.connection() as conn, conn.cursor(binary=True) as cursor:
            # Binary results: the states arrive as bytes, not hex to decode.
            return cursor.execute(_READ, params).fetchall()

    def _envelopes_of(self, rows: Iterable[Row]) -> Iterable[EventEnvelope]:
        for position, originator_id, version, topic, state in rows:
            stored = StoredEvent(
                originator_id=UUID(originator_id),
                originator_version=version,
                topic=topic,
                state=bytes(state),
            )
            yield self._envelopes.envelope(stored, position)
