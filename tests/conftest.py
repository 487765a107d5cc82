"""Fixtures shared by integration and end-to-end tests.

They use the local services started by ``make services-up`` (the Makefile
exports their addresses from var/services.env). A missing service fails the
tests: nothing here is skipped.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from commands.context import CommandContext
from commands.organizations import OrganizationService, RegisterOrganization
from domain.principal import Principal, Role
from infra.bootstrap import Container, bootstrap
from infra.migrations import migrate
from infra.postgres.pool import Database
from infra.postgres.projection_schemas import ensure_schemas
from infra.projection.registry import READ_MODELS, all_projections
from infra.settings import Settings
from infra.streaming import kafka


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run the tests with `make test`, which starts the "
            "local services and exports their addresses",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(
        env="development",
        database_url=_required("ASSUREHUB_TEST_DATABASE_URL"),
        kafka_bootstrap_servers=_required("ASSUREHUB_KAFKA_BOOTSTRAP_SERVERS"),
        redis_url=_required("ASSUREHUB_REDIS_URL"),
        kafka_topic=f"assurehub.test.{uuid.uuid4().hex[:12]}",
        log_format="text",
        read_wait_seconds=5,
        relay_poll_seconds=0.5,
        # The fuzzer calls the feed too: no long polls, streams that end at
        # once (tests/e2e/test_event_feed.py runs its own server for waits).
        feed_max_wait_seconds=0,
        feed_stream_seconds=0.05,
        metrics_port=0,  # tests that scrape choose a free port
        metrics_dir=None,
    )


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> Settings:
    """A clean test database with every migration applied."""
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
    return settings


@pytest.fixture(scope="session")
def container(migrated: Settings) -> Iterator[Container]:
    c = bootstrap(migrated)
    yield c
    c.close()


class Background:
    """Runs workers in threads; stops and joins them at teardown."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, target, name: str) -> None:
        t = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
        t.start()
        self.threads.append(t)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
            assert not t.is_alive(), f"{t.name} did not stop"


@pytest.fixture(scope="session")
def pipeline(container: Container) -> Iterator[Container]:
    """The relay and every projector running against the session's topic."""
    background = Background()
    background.start(container.relay().run, "relay")
    background.start(container.projector_host().run, "projectors")
    # Wait until a probe event has gone all the way through (group joined).
    probe = OrganizationService(container.event_store).register_organization(
        CommandContext(
            Principal("probe", "probe", frozenset({Role.TENANT_ADMIN})), "probe"
        ),
        RegisterOrganization("Pipeline probe", "GB"),
    )
    deadline = time.monotonic() + 90
    names = [projection.name for projection in READ_MODELS]
    while not all(container.progress.has_reached(n, probe.position) for n in names):
        assert time.monotonic() < deadline, (
            "the pipeline did not project a probe in 90 s"
        )
        time.sleep(0.05)
    yield container
    background.close()


@pytest.fixture
def make_relay(container: Container):
    """Relays on their own topics, closed at teardown."""
    made = []

    def make(topic: str | None = None, relay_factory=None):
        relay = relay_factory() if relay_factory else container.relay(topic=topic)
        made.append(relay)
        return relay

    yield make
    for relay in made:
        relay.close()


@pytest.fixture(scope="session")
def document_jobs(pipeline: Container) -> Iterator[Container]:
    """The pipeline, with the document processor's list of jobs projected
    (one runner per session: the projection's tracking is per topic)."""
    background = Background()
    runner = pipeline.document_jobs_runner()
    background.start(runner.run, runner.projection.name)
    yield pipeline
    background.close()


@pytest.fixture(scope="session")
def notifying(pipeline: Container) -> Iterator[Container]:
    """The pipeline, with the notification processor's intents projected."""
    background = Background()
    runner = pipeline.notification_intents_runner()
    background.start(runner.run, runner.projection.name)
    yield pipeline
    background.close()
