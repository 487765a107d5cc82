"""What the benchmarks share: settings, a fresh database, percentiles."""

from __future__ import annotations

import os
import statistics
import uuid

import psycopg
from psycopg import sql

from infra.migrations import migrate
from infra.postgres.pool import Database
from infra.postgres.projection_schemas import ensure_schemas
from infra.projection.registry import all_projections
from infra.settings import Settings
from infra.streaming import kafka


def bench_settings() -> Settings:
    """Settings for the local services, on the test database and a fresh topic."""
    return Settings(
        env="development",
        database_url=os.environ["ASSUREHUB_TEST_DATABASE_URL"],
        kafka_bootstrap_servers=os.environ["ASSUREHUB_KAFKA_BOOTSTRAP_SERVERS"],
        redis_url=os.environ["ASSUREHUB_REDIS_URL"],
        kafka_topic=f"assurehub.bench.{uuid.uuid4().hex[:8]}",
        db_pool_size=40,
        log_format="text",
        log_level="WARNING",
    )


def reset_database(settings: Settings) -> None:
    """Drop everything in the (test) database, read models included, and
    migrate it afresh with empty read-model tables (as ``assurehub migrate``
    does on an empty store)."""
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
        read_models = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rm\\_%'"
        ).fetchall()
        for (schema,) in read_models:
            conn.execute(
                sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema))
            )
    database = Database.from_settings(settings)
    try:
        migrate(settings, database)
        ensure_schemas(database, all_projections(), store_is_empty=True)
    finally:
        database.close()
    kafka.ensure_topic(settings)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by the inclusive method."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def pin(cpu: int | None) -> list[int]:
    """Pin this process to ``cpu`` if it may run there and on another CPU too
    (nothing to pin on a one-CPU machine); the CPUs it may use afterwards."""
    if not hasattr(os, "sched_setaffinity"):
        return []
    allowed = os.sched_getaffinity(0)
    if cpu is not None and cpu in allowed and len(allowed) > 1:
        os.sched_setaffinity(0, {cpu})
    return sorted(os.sched_getaffinity(0))
