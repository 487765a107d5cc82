"""A read of the past by staff, recorded as evidence: who looked at what, when
and from which address.

Reading an aggregate's history, a state as of an earlier moment, the tenant's
trail or a document's file is itself part of the record a compliance officer
answers for. Each such read is one :class:`AccessRecord` with one event, so
recording never contends with another read (no shared stream, no version
conflict). The actor, the tenant, the time and the request id are the
event's metadata; the event holds what was read.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import uuid4

from eventsourcing.domain import Aggregate

from domain.events import EventMeta

ROUTE_MAX = 300
QUERY_MAX = 2000
"""Longest query string recorded (longer ones are cut, marked with ``…``)."""
ADDRESS_MAX = 100


class AccessRecord(Aggregate):
    """One read of history, an as-of state, the trail or a document."""

    class Event(Aggregate.Event):
        """Base of AccessRecord events."""

        TYPE: ClassVar[str]
        PERSONAL: ClassVar[frozenset[str]] = frozenset()
        meta: EventMeta

    class Recorded(Event, Aggregate.Created):
        """A member of staff read something recorded as a read of the past."""

        TYPE = "access.recorded"
        PERSONAL = frozenset({"address"})
        route: str
        """The route read, as ``GET /audits/{audit_id}/history``."""
        path: str
        """The path as requested (ids filled in)."""
        query: str
        """The query string as requested (filters, ``as_of``, ``format``)."""
        resource_type: str | None
        resource_id: str | None
        address: str | None
        """The caller's network address."""

    def __init__(
        self,
        meta: EventMeta,
        route: str,
        path: str,
        query: str,
        resource_type: str | None,
        resource_id: str | None,
        address: str | None,
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.route = route
        self.path = path
        self.query = query
        self.resource_type = resource_type
        self.resource_id = resource_id
        self.address = address

    @classmethod
    def record(
        cls,
        meta: EventMeta,
        route: str,
        path: str,
        query: str,
        resource: tuple[str, str] | None,
        address: str | None,
    ) -> AccessRecord:
        """A new record of one read (text is cut to its bounds, never refused:
        the read already passed the edge's own checks)."""
        kind, rid = resource if resource is not None else (None, None)
        return cls._create(
            cls.Recorded,
            id=uuid4(),
            meta=meta,
            route=_cut(route, ROUTE_MAX),
            path=_cut(path, QUERY_MAX),
            query=_cut(query, QUERY_MAX),
            resource_type=kind,
            resource_id=rid,
            address=_cut(address, ADDRESS_MAX) if address is not None else None,
        )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
