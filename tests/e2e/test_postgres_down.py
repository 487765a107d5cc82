"""With Postgres unreachable the API answers 503 problems, never a traceback."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from infra.bootstrap import bootstrap
from infra.settings import Settings
from read_api.app import create_app
from tests.e2e.conftest import as_user, serve


@pytest.fixture
def client_without_postgres(migrated):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings.model_validate(
        {
            **migrated.model_dump(mode="json"),
            "database_url": f"postgresql://nobody:secret@127.0.0.1:{port}/assurehub",
        }
    )
    container = bootstrap(settings)
    try:
        with (
            serve(create_app(container)) as url,
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            yield client
    finally:
        container.close()


def test_commands_and_queries_answer_503_with_retry_after(
    client_without_postgres, caplog
):
    admin = as_user("e2e-down")
    with caplog.at_level(logging.ERROR):
        command = client_without_postgres.post(
            "/organizations", json={"name": "Acme", "country": "GB"}, headers=admin
        )
        query = client_without_postgres.get("/organizations", headers=admin)
    for r in (command, query):
        assert r.status_code == 503
        assert r.headers["retry-after"]
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "service-unavailable"
        assert "Traceback" not in r.text
        assert "psycopg" not in r.text
    logged = [
        rec for rec in caplog.records if rec.getMessage() == "dependency unavailable"
    ]
    assert logged
    assert logged[0].dependency == "postgres"


def test_readiness_reports_postgres_down(client_without_postgres):
    r = client_without_postgres.get("/health/ready")
    assert r.status_code == 503
    assert r.json()["checks"]["postgres"] == "down"
    assert client_without_postgres.get("/health/live").status_code == 200
