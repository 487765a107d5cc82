"""Statuses the OpenAPI document lists that only real records can produce: a
command whose body names a record that does not exist answers a 404 problem
naming it, as its entry says (the record in its path exists)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.e2e.conftest import as_user
from tests.e2e.world import PDF, World, build_world, new_tenant, utc_today


@pytest.fixture(scope="module")
def world(base_url, pipeline) -> World:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return build_world(client, pipeline, new_tenant("statuses"))


def plan(world: World, organization, template) -> dict[str, object]:
    start = utc_today() + timedelta(days=30)
    return {
        "organization_id": str(organization),
        "site_ids": [str(world.sites[0])],
        "standard_template_id": str(template),
        "standard_version": 1,
        "audit_type": "stage_1",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(days=1)).isoformat(),
        "scope_statement": "Design and manufacture of pumps",
    }


def terms(world: World, audit) -> dict[str, object]:
    today = utc_today()
    return {
        "audit_id": str(audit),
        "site_scopes": [{"site_id": str(world.sites[0]), "scope": "Pumps"}],
        "effective_date": today.isoformat(),
        "expiry_date": (today + timedelta(days=365)).isoformat(),
    }


def test_a_command_naming_a_record_that_does_not_exist_is_a_documented_404(http, world):
    ghost = world.ghost()
    spec = http.get("/openapi.json").json()
    manager = as_user(world.tenant, "programme_manager")
    decider = as_user(world.tenant, "decision_maker", actor="dora")
    sent = {
        ("/audits", "organization"): http.post(
            "/audits",
            json=plan(world, ghost.organization, world.standard_template),
            headers=manager,
        ),
        ("/audits", "standard template"): http.post(
            "/audits",
            json=plan(world, world.organization, ghost.standard_template),
            headers=manager,
        ),
        ("/certificates", "audit"): http.post(
            "/certificates", json=terms(world, ghost.decided_audit), headers=decider
        ),
        ("/certificates/{certificate_id}/revise", "audit"): http.post(
            f"/certificates/{world.certificate}/revise",
            json=terms(world, ghost.decided_audit),
            headers=decider,
        ),
        ("/audits/{audit_id}/evidence", "finding"): http.post(
            f"/audits/{world.audit}/evidence",
            files={"file": ("log.pdf", PDF, "application/pdf")},
            data={"finding_id": str(ghost.finding)},
            headers=as_user(world.tenant, "auditor", actor="arun"),
        ),
    }
    for (path, kind), r in sent.items():
        assert r.status_code == 404, (path, kind, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert kind in r.json()["detail"], (path, r.json())
        documented = spec["paths"][path]["post"]["responses"]["404"]["description"]
        assert kind in documented, (path, documented)
