"""History and trail reads from the event store, beside raw reads of the
same rows.

- **History page**: the first page of 200 events of an organization renamed
  299 times, through :meth:`PostgresHistory.aggregate_page` (SQL, decoding
  to public JSON, actor names, redaction), beside the same ``SELECT`` of the
  same 201 rows without decoding.
- **Trail export**: every event of one tenant written as JSON Lines by
  :func:`~infra.history.export.write_trail` (what ``GET /audit-trail?format=jsonl``
  and ``assurehub export-history`` run), beside a raw server-side-cursor read
  of the same rows (binary, as the reader reads them). The store is filled
  as for the rebuild bench (:func:`bench.rebuild.fill`), every event in one
  tenant, copied in bulk without the event feed's per-row trigger.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from uuid import UUID

import psycopg

from bench.rebuild import fill
from domain.events import EventMeta
from domain.organization import Organization
from infra.bootstrap import bootstrap
from infra.eventstore.store import EVENTS_TABLE
from infra.history.export import write_trail
from infra.history.query import HistoryQuery
from infra.history.reader import Viewer
from infra.settings import Settings

TENANT = "bench-trail"
PAGE = 200
RENAMES = 299
VIEWER = Viewer("bench-officer", sees_personal=False)


@dataclass(frozen=True)
class Report:
    events: int
    load_seconds: float
    page_ms: dict[str, list[float]]
    export: dict[str, tuple[int, float]]
    """Name → (events, seconds)."""


class _Sink(io.RawIOBase):
    """Counts what is written; keeps nothing."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.size += len(b)
        return len(b)


def _long_history(settings: Settings) -> UUID:
    container = bootstrap(settings)
    try:
        meta = EventMeta(TENANT, "bench-pm", "bench", "bench")
        org = Organization.register(meta, "Bench Pumps", "GB")
        for n in range(RENAMES):
            org.rename(meta, f"Bench Pumps {n}")
        container.event_store.append(org)
        return org.id
    finally:
        container.close()


def _pages(settings: Settings, org: UUID, repeats: int) -> dict[str, list[float]]:
    container = bootstrap(settings)
    history = container.history
    query = HistoryQuery(limit=PAGE)
    try:
        history.aggregate_page(org, query, VIEWER)  # warm: pool, class shapes
        timed: dict[str, list[float]] = {"history page": [], "raw": []}
        with container.database.connection() as conn:
            for _ in range(repeats):
                started = time.perf_counter()
                page = history.aggregate_page(org, query, VIEWER)
                timed["history page"].append((time.perf_counter() - started) * 1000)
                assert len(page.entries) == PAGE
                assert page.next_after == PAGE
                started = time.perf_counter()
                conn.execute(
                    f"SELECT originator_id, originator_version, topic, state,"
                    f" notification_id FROM {EVENTS_TABLE} WHERE originator_id = %s"
                    " AND originator_version > 0 ORDER BY originator_version"
                    " LIMIT %s",
                    (org, PAGE + 1),
                ).fetchall()
                timed["raw"].append((time.perf_counter() - started) * 1000)
    finally:
        container.close()
    return timed


def _raw_trail(settings: Settings) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    with (
        psycopg.connect(str(settings.database_url)) as conn,
        conn.cursor(name="raw_trail", binary=True) as cursor,
    ):
        cursor.itersize = 5_000
        cursor.execute(
            f"SELECT originator_id, originator_version, topic, state,"
            f" notification_id FROM {EVENTS_TABLE}"
            " WHERE assurehub_event_tenant(state) = %s ORDER BY notification_id",
            (TENANT,),
        )
        for _ in cursor:
            count += 1
    return count, time.perf_counter() - started


def _export(settings: Settings) -> tuple[int, float]:
    container = bootstrap(settings)
    try:
        started = time.perf_counter()
        count = write_trail(
            container.history,
            TENANT,
            HistoryQuery(),
            VIEWER,
            _Sink(),  # type: ignore[arg-type]
        )
        return count, time.perf_counter() - started
    finally:
        container.close()


def run(settings: Settings, events: int, repeats: int = 50) -> Report:
    """Fill the store with ``events`` events of one tenant, then time both."""
    stored, _, load_seconds = fill(settings, events, tenant=TENANT, feed=False)
    org = _long_history(settings)
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {EVENTS_TABLE}")
    _raw_trail(settings)  # warm the cache: both passes then read from memory
    export = {
        "raw read (psycopg, server-side cursor, no decoding)": _raw_trail(settings),
        "trail export as JSON Lines (write_trail)": _export(settings),
    }
    return Report(
        stored + RENAMES + 1, load_seconds, _pages(settings, org, repeats), export
    )
