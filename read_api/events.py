"""The HTTP event feed: the tenant's stored events as CloudEvents.

``GET /events`` answers a page (``application/cloudevents-batch+json``) with
the position to ask after next in ``Next-After``; ``wait`` long-polls by
re-reading every half second (an indexed read of one tenant's positions
above ``after``) until something arrives or the wait ends. ``GET
/events/stream`` serves the same as Server-Sent Events and ends after
``ASSUREHUB_FEED_STREAM_SECONDS`` (clients reconnect with ``Last-Event-ID``,
as SSE clients do). Both are confined to the caller's tenant and scopes;
personal fields are masked unless the caller holds ``events:read_personal``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from starlette.concurrency import run_in_threadpool

from commands.http.edge import requires
from domain.access import Permission, is_allowed
from domain.principal import Principal
from infra.streaming import cloudevents
from infra.streaming.event_schemas import current
from infra.streaming.feed import (
    EventFeed,
    FeedQuery,
    topics_by_aggregate_type,
    topics_by_type,
)
from infra.streaming.personal_fields import masked_schema
from projections.listing import InvalidFilterValueError
from read_api.exact_query import exact_query
from read_api.schemas.rows import examples

router = APIRouter(prefix="/events", tags=["events"])

Reader = Annotated[Principal, Depends(exact_query(requires(Permission.EVENTS_READ)))]
POLL_SECONDS = 0.5
"""How often a waiting request or an idle stream looks for new events."""
KEEP_ALIVE_SECONDS = 15.0
"""An idle stream sends a comment this often, so proxies keep it open."""
MAX_LIMIT = 1000


_NULL = {"type": "null"}


def _data_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An event type's data as the feed answers it; a type without fields is
    the empty object (stated as "no property of any value")."""
    if schema["properties"]:
        return masked_schema(schema)
    return {"type": "object", "maxProperties": 0, "additionalProperties": _NULL}


_DATA_SCHEMA = {
    "description": "The event's public JSON, by its type's schema (see "
    "/asyncapi.json); personal fields are null without events:read_personal.",
    "anyOf": [
        json.loads(text)
        for text in dict.fromkeys(
            json.dumps(_data_schema(s), sort_keys=True)
            for _, s in sorted(current().items())
        )
    ],
}


class CloudEventPublic(BaseModel):
    """One event as a CloudEvent in structured JSON (the same attributes as
    the Kafka record's ``ce_*`` headers; ``data`` is the record value)."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "specversion": "1.0",
                "id": "0b9e4c1e-2d5f-5a7b-8c3d-4e5f6a7b8c9d",
                "type": "assurehub.organization.renamed.v1",
                "source": "/assurehub",
                "subject": "7f1c3a52-6f2e-4a8e-9b0d-3c5e2f1a9b47",
                "time": "2026-12-04T09:30:00+00:00",
                "datacontenttype": "application/json",
                "tenantid": "acme-cert",
                "position": 42,
                "aggregateversion": 2,
                "actorid": "alice",
                "correlationid": "req-1",
                "causationid": "req-1",
                "data": {"name": "Nordic Steel AB"},
            }
        )
    )

    specversion: str
    id: str = Field(description="Stable per event: deduplicate by it.")
    type: str = Field(description="Versioned public type (see /asyncapi.json).")
    source: str
    subject: str = Field(description="The aggregate's id.")
    time: str
    datacontenttype: str
    tenantid: str
    position: int = Field(description="Global position; resume after it.")
    aggregateversion: int
    actorid: str
    correlationid: str
    causationid: str
    data: Annotated[dict[str, Any], WithJsonSchema(_DATA_SCHEMA)]


class CloudEventsBatchResponse(JSONResponse):
    """A page of structured CloudEvents, rendered by
    :func:`~infra.streaming.cloudevents.to_json`: the bytes
    ``JSONResponse`` would send, faster."""

    media_type = cloudevents.BATCH_CONTENT_TYPE

    def render(self, content: Any) -> bytes:
        return cloudevents.to_json(content)


def _feed(request: Request) -> EventFeed:
    feed: EventFeed = request.app.state.container.event_feed
    return feed


Feed = Annotated[EventFeed, Depends(_feed)]


def _topics(
    types: list[str] | None, aggregate_types: list[str] | None
) -> frozenset[str] | None:
    """The stored topics the ``type`` and ``aggregate_type`` filters admit."""
    chosen: frozenset[str] | None = None
    for parameter, values, known in (
        ("type", types, topics_by_type()),
        ("aggregate_type", aggregate_types, topics_by_aggregate_type()),
    ):
        if not values:
            continue
        names = {n for value in values for n in value.split(",") if n}
        unknown = sorted(names - set(known))
        if unknown:
            raise InvalidFilterValueError(
                parameter,
                f"unknown {parameter} {unknown[0]!r}; allowed: {', '.join(known)}",
                known,
            )
        topics = frozenset(t for n in names for t in known[n])
        chosen = topics if chosen is None else chosen & topics
    return chosen


def _query(
    principal: Principal, after: int, limit: int, topics: frozenset[str] | None
) -> FeedQuery:
    return FeedQuery(
        tenant_id=principal.tenant_id,
        after=after,
        limit=limit,
        topics=topics,
        organization_ids=principal.organization_ids,
        aggregate_ids=principal.audit_ids,
    )


def feed_page(
    feed: EventFeed, principal: Principal, query: FeedQuery
) -> list[dict[str, Any]]:
    """The structured CloudEvents ``query`` selects, personal fields masked
    unless ``principal`` holds ``events:read_personal``."""
    personal = is_allowed(principal, Permission.EVENTS_READ_PERSONAL)
    return feed.page(query, personal=personal)


After = Annotated[
    int, Query(ge=0, le=2**63 - 1, description="Events after this position.")
]
Types = Annotated[
    list[str] | None,
    Query(alias="type", description="Only these types (`a,b` or repeated)."),
]
AggregateTypes = Annotated[
    list[str] | None,
    Query(description="Only events of these aggregates (`organization,audit`)."),
]


@dataclass(frozen=True)
class Selection:
    """What a feed request selects: the position to read after, the topics."""

    after: int
    topics: frozenset[str] | None


def _selection(
    after: After = 0, types: Types = None, aggregate_type: AggregateTypes = None
) -> Selection:
    return Selection(after, _topics(types, aggregate_type))


Selected = Annotated[Selection, Depends(_selection)]


@router.get(
    "",
    response_model=list[CloudEventPublic],
    response_class=CloudEventsBatchResponse,
    responses={
        200: {
            "headers": {
                "Next-After": {
                    "description": "The position to ask after next.",
                    "schema": {"type": "integer"},
                }
            }
        }
    },
)
async def read_events(
    request: Request,
    principal: Reader,
    feed: Feed,
    selected: Selected,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    wait: Annotated[float, Query(ge=0, le=60, description="Long-poll seconds.")] = 0,
) -> CloudEventsBatchResponse:
    """The caller's tenant's events after ``after``, in position order, as
    CloudEvents (the same as on Kafka), within the caller's organization and
    audit scopes. ``Next-After`` is the position to ask after next. ``wait``
    waits up to that many seconds (bounded by the server) for the first
    event. Resuming after the last position received neither skips nor
    repeats an event."""
    query = _query(principal, selected.after, limit, selected.topics)
    deadline = time.monotonic() + min(
        wait, request.app.state.container.settings.feed_max_wait_seconds
    )
    events = await run_in_threadpool(feed_page, feed, principal, query)
    while not events and time.monotonic() < deadline:
        await asyncio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        events = await run_in_threadpool(feed_page, feed, principal, query)
    next_after = events[-1]["position"] if events else selected.after
    return CloudEventsBatchResponse(events, headers={"Next-After": str(next_after)})


_SSE_EVENT = {
    "type": "object",
    "description": "One Server-Sent Event.",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "Position."},
        "event": {"type": "string", "description": "The CloudEvent's type."},
        "data": {
            "type": "string",
            "contentMediaType": "application/cloudevents+json",
            "description": "The CloudEvent in structured JSON.",
        },
    },
    "required": ["id", "event", "data"],
}


def _sse(event: dict[str, Any]) -> bytes:
    head = f"id: {event['position']}\nevent: {event['type']}\ndata: ".encode()
    return head + cloudevents.to_json(event) + b"\n\n"


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": _SSE_EVENT}},
            "description": "Server-Sent Events: `id:` = position, `data:` = "
            "the CloudEvent; `: keep-alive` comments while idle.",
        }
    },
)
async def stream_events(
    request: Request,
    principal: Reader,
    feed: Feed,
    selected: Selected,
    last_event_id: Annotated[
        int | None,
        Header(ge=0, le=2**63 - 1, description="Resume after this position."),
    ] = None,
) -> StreamingResponse:
    """The same events as ``GET /events``, as Server-Sent Events, one per
    message with ``id:`` = position, resuming after ``Last-Event-ID`` (else
    ``after``); ends after a while (reconnect with ``Last-Event-ID``)."""
    topics = selected.topics
    start = last_event_id if last_event_id is not None else selected.after
    settings = request.app.state.container.settings
    # The first page is read before answering: Postgres down is a 503.
    first = await run_in_threadpool(
        feed_page, feed, principal, _query(principal, start, MAX_LIMIT, topics)
    )

    async def messages() -> AsyncIterator[bytes]:
        position, idle_since = start, time.monotonic()
        ends = time.monotonic() + settings.feed_stream_seconds
        events = first
        yield b": connected\n\n"
        while True:
            if events:  # a page's messages in one write
                yield b"".join(_sse(event) for event in events)
                position, idle_since = events[-1]["position"], time.monotonic()
            else:
                if time.monotonic() - idle_since >= KEEP_ALIVE_SECONDS:
                    yield b": keep-alive\n\n"
                    idle_since = time.monotonic()
                left = ends - time.monotonic()
                await asyncio.sleep(max(0.0, min(POLL_SECONDS, left)))
            if time.monotonic() >= ends or await request.is_disconnected():
                return
            query = _query(principal, position, MAX_LIMIT, topics)
            events = await run_in_threadpool(feed_page, feed, principal, query)

    return StreamingResponse(
        messages(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
