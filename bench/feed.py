"""Catch-up through the HTTP event feed, beside a raw read of the same rows.

The store is filled by :func:`bench.rebuild.fill` with the real domain, all
in one tenant (the feed answers one tenant), the rows going through the
events table's insert trigger that indexes them for the feed. Then, on the
same rows and in the same run:

* the raw read (the floor): every row fetched with psycopg through a
  server-side cursor, all columns, nothing decoded;
* feed catch-up: a reader starting at position 0 asks page after page of
  1,000 (the route's maximum) with ``after`` = the last position of the
  previous page, and each page is made exactly as ``GET /events`` makes it:
  :class:`~infra.streaming.feed.EventFeed` reads it, each event becomes its
  structured CloudEvent (personal fields masked) and the page is serialized
  to JSON. Not included: HTTP framing and the socket (one uvicorn worker
  adds its own per-request cost; at 1,000 events a page that is a few
  hundred requests for a million events).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import psycopg

from bench.rebuild import Timing, fill, raw_read
from domain.principal import Principal, Role
from infra.bootstrap import bootstrap
from infra.eventstore.store import EVENTS_TABLE
from infra.settings import Settings
from infra.streaming.feed import FeedQuery
from read_api.events import MAX_LIMIT, feed_page

TENANT = "bench-feed"


@dataclass
class Report:
    """What :func:`run` measured."""

    events: int
    load_seconds: float
    timings: list[Timing]


def catch_up(settings: Settings) -> Timing:
    """Every event of the tenant through the feed, a page at a time."""
    container = bootstrap(settings)
    reader = Principal(TENANT, "bench", frozenset({Role.PROGRAMME_MANAGER}))
    count, after, body_bytes = 0, 0, 0
    try:
        started = time.perf_counter()
        while True:
            query = FeedQuery(TENANT, after, MAX_LIMIT)
            page = feed_page(container.event_feed, reader, query)
            if not page:
                break
            body_bytes += len(json.dumps(page, separators=(",", ":")).encode())
            count += len(page)
            after = page[-1]["position"]
        seconds = time.perf_counter() - started
    finally:
        container.close()
    name = f"feed catch-up, pages of {MAX_LIMIT:,} ({body_bytes / 2**20:,.0f} MB JSON)"
    return Timing(name, count, seconds)


def run(settings: Settings, events: int) -> Report:
    """Fill the store in one tenant, then time the catch-up beside a raw read."""
    stored, _, load_seconds = fill(settings, events, tenant=TENANT)
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {EVENTS_TABLE}")
        conn.execute("VACUUM ANALYZE event_feed")
    raw_read(settings)  # warm the cache: every timing then reads from memory
    timings = [raw_read(settings), catch_up(settings)]
    assert timings[1].events == stored, (timings[1].events, stored)
    return Report(stored, load_seconds, timings)
