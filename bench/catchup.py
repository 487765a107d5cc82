"""Catch-up after an outage of the projectors, beside the rebuild rate.

On a fresh database and topic, the API, the relay and the projector
process(es) run as deployed. The projectors are stopped; commands are sent
at a fixed rate over HTTP for the outage (the relay keeps publishing, so
Kafka holds the backlog); then the projectors start again and the bench
watches the tracking rows until every read model has applied, on every
partition, what the relay published. The drain rate is the backlog over the
time from the first tracking move to caught up (process start and group
join excluded; the time from the process start is shown too). Baseline in
the same run: a rebuild of every read model over the same store.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

from bench.common import reset_database
from bench.processes import HEADERS, behind_query, pipeline
from infra.bootstrap import bootstrap
from infra.projection.registry import READ_MODELS
from infra.settings import Settings


@dataclass(frozen=True)
class Drain:
    """One outage and its catch-up."""

    projectors: int
    outage_seconds: float
    accepted: int
    backlog: int
    from_start: float
    from_first_move: float
    rebuild_events: int
    rebuild_seconds: float

    @property
    def per_second(self) -> float:
        return self.backlog / self.from_first_move

    @property
    def rebuild_per_second(self) -> float:
        return self.rebuild_events / self.rebuild_seconds


def _load(url: str, rate: float, seconds: float) -> int:
    """Commands at ``rate`` per second for ``seconds``; how many were accepted."""
    accepted = [0]
    lock = threading.Lock()
    local = threading.local()

    def send(n: int) -> None:
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=url, headers=HEADERS, timeout=30)
        r = local.http.post(
            "/organizations", json={"name": f"Backlog {n}", "country": "SE"}
        )
        if r.status_code == 201:
            with lock:
                accepted[0] += 1

    with ThreadPoolExecutor(max_workers=32) as pool:
        start = time.perf_counter()
        n = 0
        while (now := time.perf_counter()) - start < seconds:
            target = start + n / rate
            if now < target:
                time.sleep(target - now)
            pool.submit(send, n)
            n += 1
    return accepted[0]


def _scalar(conn: psycopg.Connection[Any], query: str, params: Any = None) -> int:
    row = conn.execute(query.encode(), params).fetchone()
    return int(row[0] or 0) if row else 0


def _until(
    conn: psycopg.Connection[Any], query: str, params: Any, done: object
) -> None:
    deadline = time.monotonic() + 600
    while _scalar(conn, query, params) != done:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not reached in 10 minutes: {query}")
        time.sleep(0.02)


def outage(settings: Settings, projectors: int, rate: float, seconds: float) -> Drain:
    """Stop the projectors, load for ``seconds``, restart them, time the drain."""
    behind, params = behind_query(settings.kafka_topic)
    heads = "SELECT COALESCE(max(notification_id), 0) FROM assurehub_events"
    relayed = "SELECT COALESCE(max(position), 0) FROM relay_progress WHERE topic = %s"
    moved = (
        "SELECT count(*) FROM projection_tracking WHERE topic = %s AND position > %s"
    )
    with (
        pipeline(settings, projectors=projectors) as running,
        psycopg.connect(str(settings.database_url), autocommit=True) as conn,
    ):
        _until(conn, behind, params, 0)
        for i in range(projectors):
            running.procs.pop(f"projectors-{i + 1}").terminate()
        time.sleep(2)  # their last batches committed, the group left
        before = _scalar(conn, heads)
        accepted = _load(running.urls[0], rate, seconds)
        head = _scalar(conn, heads)
        _until(conn, f"SELECT ({relayed}) >= %s", (settings.kafka_topic, head), True)
        started = time.perf_counter()
        for i in range(projectors):
            running.start(f"projectors-{i + 1}", "projectors")
        _until(conn, f"SELECT ({moved}) > 0", (settings.kafka_topic, before), True)
        first_move = time.perf_counter()
        _until(conn, behind, params, 0)
        done = time.perf_counter()
    container = bootstrap(settings)
    try:
        rebuilt = time.perf_counter()
        container.rebuilder(ask_kafka=False).rebuild_all(READ_MODELS)
        rebuild_seconds = time.perf_counter() - rebuilt
    finally:
        container.close()
    return Drain(
        projectors,
        seconds,
        accepted,
        head - before,
        done - started,
        done - first_move,
        head,
        rebuild_seconds,
    )


def run(
    settings: Settings, rate: float, seconds: float, counts: tuple[int, ...] = (1, 2)
) -> list[Drain]:
    """An outage per count of projector processes, each on a fresh store."""
    drains = []
    for n in counts:
        fresh = settings.model_copy(
            update={"kafka_topic": f"{settings.kafka_topic}.c{n}"}
        )
        reset_database(fresh)
        drains.append(outage(fresh, n, rate, seconds))
    return drains
