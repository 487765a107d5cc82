"""A real HTTP server on loopback, with the relay and projectors running."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from infra.bootstrap import Container, bootstrap
from infra.migrations import migrate
from infra.postgres.pool import Database
from infra.postgres.projection_schemas import ensure_schemas
from infra.projection.registry import all_projections
from infra.settings import Settings
from processors.documents import DocumentProcessor, run_documents
from processors.workers import document_processor
from read_api.app import create_app
from tests.conftest import Background
from tests.scratch_database import scratch_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn on ``port`` (a free loopback port if
    ``None``); yield its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def base_url(pipeline) -> Iterator[str]:
    with serve(create_app(pipeline)) as url:
        yield url


def as_user(tenant: str, *roles: str, actor: str = "alice") -> dict[str, str]:
    return {
        "X-Dev-Tenant": tenant,
        "X-Dev-Actor": actor,
        "X-Dev-Roles": ",".join(roles or ("tenant_admin",)),
    }


@pytest.fixture
def http(base_url) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def closed_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()


@contextmanager
def api_with(
    settings: Settings, **overrides
) -> Iterator[tuple[httpx.Client, Container]]:
    """A real server whose settings differ from the session's by ``overrides``."""
    changed = Settings.model_validate({**settings.model_dump(), **overrides})
    container = bootstrap(changed)
    try:
        with (
            serve(create_app(container)) as url,
            httpx.Client(base_url=url, timeout=60) as client,
        ):
            yield client, container
    finally:
        container.close()


@contextmanager
def processing(container: Container) -> Iterator[None]:
    """The document processor of ``container`` working in a thread (its job
    list is projected by the session's ``document_jobs`` fixture)."""
    background = Background()
    processor = document_processor(container, lease_seconds=30)
    background.start(partial(_run_documents, processor), "documents")
    try:
        yield
    finally:
        background.close()


def _run_documents(processor: DocumentProcessor, stop: threading.Event) -> None:
    run_documents(stop, processor, 0.2)


@pytest.fixture
def own_database(migrated):
    """A migrated database of its own: a process group's relay starts
    on a new topic and republishes every stored event, so on the shared test
    store its start-up would grow with every test run before it."""
    with scratch_database(migrated) as settings:
        database = Database.from_settings(settings)
        try:
            migrate(settings, database)
            ensure_schemas(database, all_projections(), store_is_empty=True)
        finally:
            database.close()
        yield settings
