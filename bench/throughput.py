"""Command throughput: single-event commands appended per second.

Beside it, in the same run: a raw psycopg INSERT of the same row shape
(uuid, version, topic, bytea state) into a plain table, one transaction per
row, with the same number of concurrent writers.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import psycopg_pool

from commands.context import CommandContext
from commands.organizations import OrganizationService, RegisterOrganization
from domain.principal import Principal, Role
from infra.eventstore.store import LibraryEventStore, postgres_env
from infra.settings import Settings

ADMIN = Principal("bench", "bench", frozenset({Role.TENANT_ADMIN}))
STATE = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-26T04:00:00+00:00"},'
    b'"meta":{"_type_":"event_meta","_data_":{"tenant_id":"bench","actor_id":"bench",'
    b'"correlation_id":"c","causation_id":"c"}},"name":"Bench 1","country":"SE"}'
)


def _run(writers: int, per_writer: int, command: Callable[[int, int], object]) -> float:
    barrier = threading.Barrier(writers + 1)

    def work(w: int) -> None:
        barrier.wait()
        for i in range(per_writer):
            command(w, i)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return writers * per_writer / (time.perf_counter() - started)


def event_store_rate(
    settings: Settings,
    writers: int,
    total: int,
    env: dict[str, str] | None = None,
) -> float:
    """Commands/s of ``writers`` threads (``env``: overrides of the store's
    environment, e.g. another recorder)."""
    store = LibraryEventStore({**postgres_env(settings), **(env or {})})
    service = OrganizationService(store)
    ctx = CommandContext(ADMIN, "bench")
    service.register_organization(ctx, RegisterOrganization("warm-up", "SE"))
    try:
        return _run(
            writers,
            max(1, total // writers),
            lambda w, i: service.register_organization(
                ctx, RegisterOrganization(f"Bench {w}-{i}", "SE")
            ),
        )
    finally:
        store.close()


def raw_insert_rate(settings: Settings, writers: int, total: int) -> float:
    pool = psycopg_pool.ConnectionPool(
        str(settings.database_url),
        min_size=writers,
        max_size=writers,
        kwargs={"autocommit": True},
        open=True,
    )
    with pool.connection() as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_events (originator_id uuid NOT NULL,"
            " originator_version bigint NOT NULL, topic text, state bytea,"
            " notification_id bigserial,"
            " PRIMARY KEY (originator_id, originator_version))"
        )

    def insert(_w: int, _i: int) -> None:
        with pool.connection() as conn:
            conn.execute(
                "INSERT INTO bench_raw_events"
                " (originator_id, originator_version, topic, state)"
                " VALUES (%s, 1, %s, %s)",
                (uuid.uuid4(), "domain.organization:Organization.Registered", STATE),
            )

    try:
        return _run(writers, max(1, total // writers), insert)
    finally:
        pool.close()


def run(settings: Settings, total: int) -> list[tuple[str, float, float]]:
    """``(writers, store commands/s, raw inserts/s)`` for 1, 8 and 32 writers."""
    rows = []
    for writers in (1, 8, 32):
        store = event_store_rate(settings, writers, total)
        raw = raw_insert_rate(settings, writers, total)
        rows.append((str(writers), store, raw))
    return rows
