"""A real HTTP server on loopback, with the relay and projectors running."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from read_api.app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield its base URL."""
    port = free_port()
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
