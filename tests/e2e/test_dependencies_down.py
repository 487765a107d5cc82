"""Faults of the backing services, as a client and an operator see them."""

from __future__ import annotations

import logging
import uuid

from infra.logs import CorrelationFilter
from tests.e2e.conftest import api_with, as_user, closed_port

PROBLEM = "application/problem+json"


def test_postgres_down_is_503_with_retry_after_and_a_clean_log_line(
    migrated, container, caplog
):
    admin = as_user("e2e-down")
    existing = container.services.organizations  # an organization that exists
    from commands.context import CommandContext
    from commands.organizations import RegisterOrganization
    from domain.principal import Principal, Role

    org = existing.register_organization(
        CommandContext(Principal("e2e-down", "a", frozenset({Role.TENANT_ADMIN})), "r"),
        RegisterOrganization("Down Ltd", "GB"),
    )
    dsn = f"postgresql://nobody:secret@127.0.0.1:{closed_port()}/assurehub"
    with (
        api_with(migrated, database_url=dsn) as (client, _),
        caplog.at_level(logging.WARNING),
    ):
        answers = [
            client.post(
                "/organizations", json={"name": "Acme", "country": "GB"}, headers=admin
            ),
            client.post(
                f"/organizations/{org.id}/rename", json={"name": "X"}, headers=admin
            ),
            client.get("/organizations", headers=admin),
            client.get(f"/organizations/{org.id}", headers=admin),
        ]
        ready = client.get("/health/ready")
    for r in answers:
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"]
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["code"] == "service-unavailable"
        assert "Traceback" not in r.text
        assert "psycopg" not in r.text
    lines = [
        rec for rec in caplog.records if rec.getMessage() == "dependency unavailable"
    ]
    assert len(lines) == len(answers)
    assert all(rec.dependency == "postgres" and not rec.exc_info for rec in lines)
    assert ready.status_code == 503
    assert ready.json()["checks"]["postgres"] == "down"


def test_with_kafka_and_redis_down_commands_go_on_and_readiness_is_degraded(migrated):
    admin = as_user(f"e2e-{uuid.uuid4().hex[:8]}")
    with api_with(
        migrated,
        kafka_bootstrap_servers=f"127.0.0.1:{closed_port()}",
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
    ) as (client, container):
        created = client.post(
            "/organizations",
            json={"name": "Offline Ltd", "country": "GB"},
            headers=admin,
        )
        ready = client.get("/health/ready")
    assert created.status_code == 201, created.text
    stored = [
        n.id
        for n in container.event_store.read_after(created.json()["position"] - 1, 1)
    ]
    assert stored == [created.json()["position"]]
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "degraded",
        "checks": {
            "postgres": "up",
            "kafka": "down",
            "redis": "down",
            "projections": "up",
            "event_log": "up",
        },
        "halted": {},
    }


def test_an_unexpected_error_is_a_bare_500_with_the_request_id(migrated, caplog):
    class BrokenView:
        def get(self, principal, organization_id):
            raise RuntimeError("bug in a view")

        list = get

    admin = as_user("e2e-broken")
    caplog.handler.addFilter(CorrelationFilter())  # as configure_logging does
    with api_with(migrated) as (client, container), caplog.at_level(logging.ERROR):
        container.organization_view = BrokenView()  # type: ignore[assignment]
        r = client.get(
            f"/organizations/{uuid.uuid4()}",
            headers={**admin, "X-Request-ID": "req-broken-1"},
        )
    assert r.status_code == 500
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["x-request-id"] == "req-broken-1"
    assert "bug in a view" not in r.text
    [line] = [rec for rec in caplog.records if rec.getMessage() == "unhandled error"]
    assert line.exc_info is not None
    assert line.correlation_id == "req-broken-1"
