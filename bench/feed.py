"""Catch-up through the HTTP event feed, beside a raw read of the same rows.

The store is filled by :func:`bench.rebuild.fill` with the real domain, all
in one tenant (the feed answers one tenant): the rows go in with ``COPY``
through the events table's insert trigger that indexes them for the feed
(migration 0040; 0044 keeps its lookups on the index, so the fill's one
long session does not slow down as the table grows). Then, on the same rows
and in the same run:

* the raw read (the floor): every row fetched with psycopg through a
  server-side cursor, all columns, nothing decoded;
* feed catch-up, in process: a reader starting at position 0 asks page
  after page of 1,000 (the route's maximum) with ``after`` = the last
  position of the previous page, each page made exactly as ``GET /events``
  makes it (:func:`read_api.events.feed_page`, straight from the rows, then
  :func:`~infra.streaming.cloudevents.to_json`);
* the same through HTTP: ``GET /events?after=…&limit=1000`` of the real app
  (``create_app(bootstrap(settings))`` under uvicorn in its own process,
  development headers) on loopback, one request per page, each body
  parsed by the client (orjson);
* ``GET /events/stream`` of the same server from position 0, every
  message's ``data:`` parsed by the client, until every event came;
* the same pages through the envelopes (``EventFeed.read``, then
  ``structured`` and the ``JSONResponse`` rendering): the path the feed
  took before it wrote pages straight from the rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import psycopg
from fastapi.responses import JSONResponse

from bench.list_query import serve
from bench.rebuild import Timing, fill, raw_read
from domain.principal import Principal, Role
from infra.bootstrap import Container, bootstrap
from infra.eventstore.store import EVENTS_TABLE
from infra.settings import Settings
from infra.streaming.cloudevents import structured, to_json
from infra.streaming.feed import FeedQuery
from read_api.events import MAX_LIMIT, feed_page

TENANT = "bench-feed"


@dataclass
class Report:
    """What :func:`run` measured."""

    events: int
    load_seconds: float
    timings: list[Timing]


Page = Callable[[int], tuple[int, int, int]]
"""Reads the page after a position: (events, body bytes, its last position)."""


def _catch_up(name: str, page: Page) -> Timing:
    """Every event of the tenant, a page at a time, each after the last."""
    count, after, body_bytes = 0, 0, 0
    started = time.perf_counter()
    while True:
        events, size, last = page(after)
        if not events:
            break
        count, body_bytes, after = count + events, body_bytes + size, last
    seconds = time.perf_counter() - started
    return Timing(f"{name} ({body_bytes / 2**20:,.0f} MB JSON)", count, seconds)


def _in_process(container: Container, reader: Principal) -> Page:
    def page(after: int) -> tuple[int, int, int]:
        events = feed_page(
            container.event_feed, reader, FeedQuery(TENANT, after, MAX_LIMIT)
        )
        body = to_json(events)
        return len(events), len(body), events[-1]["position"] if events else after

    return page


def _through_envelopes(container: Container) -> Page:
    def page(after: int) -> tuple[int, int, int]:
        envelopes = container.event_feed.read(FeedQuery(TENANT, after, MAX_LIMIT))
        body = JSONResponse([structured(e) for e in envelopes]).body
        return len(envelopes), len(body), envelopes[-1].position if envelopes else after

    return page


HEADERS = {
    "X-Dev-Tenant": TENANT,
    "X-Dev-Actor": "bench",
    "X-Dev-Roles": Role.PROGRAMME_MANAGER.value,
}


def _over_http(client: httpx.Client) -> Page:
    headers = HEADERS

    def page(after: int) -> tuple[int, int, int]:
        answer = client.get(
            "/events", params={"after": after, "limit": MAX_LIMIT}, headers=headers
        )
        answer.raise_for_status()
        events: list[dict[str, Any]] = orjson.loads(answer.content)
        last = int(answer.headers["Next-After"])
        return len(events), len(answer.content), last

    return page


def _stream(client: httpx.Client, events: int) -> Timing:
    """``GET /events/stream`` from position 0 until ``events`` messages came,
    each message's ``data:`` parsed by the client."""
    count, size = 0, 0
    started = time.perf_counter()
    with client.stream("GET", "/events/stream", headers=HEADERS) as answer:
        answer.raise_for_status()
        for line in answer.iter_lines():
            if line.startswith("data: "):
                orjson.loads(line[6:])
                count, size = count + 1, size + len(line)
                if count == events:
                    break
    seconds = time.perf_counter() - started
    name = f"feed catch-up over SSE, /events/stream ({size / 2**20:,.0f} MB data)"
    return Timing(name, count, seconds)


def catch_ups(settings: Settings, events: int) -> list[Timing]:
    """The catch-up in process, over HTTP, over SSE and through the
    envelopes (``events``: how many the tenant has)."""
    reader = Principal(TENANT, "bench", frozenset({Role.PROGRAMME_MANAGER}))
    container = bootstrap(settings)
    try:
        pages = f"pages of {MAX_LIMIT:,}"
        # Untimed: the pages of event_feed and its index into the cache.
        _catch_up("warm-up", _in_process(container, reader))
        timings = [
            _catch_up(
                f"feed catch-up in process, {pages}", _in_process(container, reader)
            )
        ]
        with (
            serve(settings, "api") as url,
            httpx.Client(base_url=url, timeout=60) as client,
        ):
            _over_http(client)(0)  # the server's pool and caches
            timings.append(
                _catch_up(f"feed catch-up over HTTP, {pages}", _over_http(client))
            )
            timings.append(_stream(client, events))
        timings.append(
            _catch_up(
                f"feed catch-up through envelopes (the previous path), {pages}",
                _through_envelopes(container),
            )
        )
    finally:
        container.close()
    return timings


def run(settings: Settings, events: int) -> Report:
    """Fill the store in one tenant, then time the catch-ups beside a raw read."""
    stored, _, load_seconds = fill(settings, events, tenant=TENANT)
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {EVENTS_TABLE}")
        conn.execute("VACUUM ANALYZE event_feed")
    raw_read(settings)  # warm the cache: every timing then reads from memory
    timings = [raw_read(settings), *catch_ups(settings, stored)]
    for timing in timings[1:]:
        assert timing.events == stored, (timing.name, timing.events, stored)
    return Report(stored, load_seconds, timings)
