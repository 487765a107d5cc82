"""Audits and their findings, commanded over HTTP as a client would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.audit import Audit
from tests.e2e.conftest import as_user

PROBLEM = "application/problem+json"


class Tenant:
    """A fresh tenant with the people an audit needs, each by role."""

    def __init__(self) -> None:
        name = f"e2e-audit-{uuid.uuid4().hex[:8]}"
        self.admin = as_user(name, "tenant_admin", actor="alice")
        self.lead = as_user(name, "auditor", actor="lena")
        self.reviewer = as_user(name, "technical_reviewer", actor="rita")
        self.decider = as_user(name, "decision_maker", actor="dora")
        self.client = as_user(name, "client_admin", actor="carl")


class AuditClient:
    """Sends audit commands and checks every answer's shape as it goes."""

    def __init__(self, http, url: str, version: int, position: int) -> None:
        self.http, self.url = http, url
        self.version, self.position = version, position

    def send(self, action: str, headers, json=None, *, method="POST", status=200):
        path = f"{self.url}/{action}" if action else self.url
        r = self.http.request(
            method,
            path,
            json=json,
            headers={**headers, "If-Match": f'"{self.version}"'},
        )
        assert r.status_code == status, r.text
        body = r.json()
        if status < 300:
            assert body["id"] == self.url.rsplit("/", 1)[1]
            assert body["version"] == self.version + 1
            assert body["position"] > self.position
            assert r.headers["etag"] == f'"{body["version"]}"'
            self.version, self.position = body["version"], body["position"]
        else:
            assert r.headers["content-type"] == PROBLEM
        return r


def planned_audit(http, people: Tenant) -> AuditClient:
    """Register an organization with a site, publish a template, plan an audit."""
    admin = people.admin
    org = http.post(
        "/organizations", json={"name": "Acme Valves", "country": "GB"}, headers=admin
    )
    assert org.status_code == 201, org.text
    org_id = org.json()["id"]
    site = http.post(
        f"/organizations/{org_id}/sites",
        json={"name": "Works", "address": "1 Mill Lane, Leeds"},
        headers=admin,
    )
    assert site.status_code == 201, site.text
    template = http.post(
        "/standard-templates",
        json={"standard_name": "ISO 9001", "edition": "2015", "title": "QMS"},
        headers=admin,
    )
    assert template.status_code == 201, template.text
    base = template.headers["location"]
    clause = {"clause_id": "8.5", "title": "Production", "text": "Controlled"}
    assert http.post(f"{base}/clauses", json=clause, headers=admin).status_code == 201
    published = http.post(f"{base}/publish", headers=admin)
    assert published.json()["template_version"] == 1, published.text

    planned = http.post(
        "/audits",
        json={
            "organization_id": org_id,
            "site_ids": [site.json()["site_id"]],
            "standard_template_id": template.json()["id"],
            "standard_version": 1,
            "audit_type": "stage_1",
            "planned_start": "2026-04-01",
            "planned_end": "2026-04-02",
            "scope_statement": "Design and manufacture of valves",
        },
        headers=admin,
    )
    assert planned.status_code == 201, planned.text
    body = planned.json()
    assert planned.headers["location"] == f"/audits/{body['id']}"
    assert planned.headers["etag"] == '"1"'
    assert body["version"] == 1
    return AuditClient(http, planned.headers["location"], 1, body["position"])


def started(audit: AuditClient, people: Tenant) -> None:
    audit.send(
        "assign-team", people.admin, {"lead_auditor": "lena", "auditors": ["arun"]}
    )
    audit.send("start", people.lead)


def reviewed(audit: AuditClient, people: Tenant) -> None:
    audit.send("report", people.lead, {"summary": "The system conforms."})
    audit.send("submit", people.lead, {"technical_reviewer": "rita"})
    audit.send("approve-review", people.reviewer, {"comments": "Well evidenced"})


def decision(http, audit: AuditClient, headers) -> dict:
    """The audit detail's decision once the read model has the last command."""
    r = http.get(audit.url, headers=headers, params={"min_position": audit.position})
    assert r.status_code == 200, r.text
    return r.json()["decision"]


def test_a_clean_audit_runs_from_plan_to_close(http):
    people = Tenant()
    audit = planned_audit(http, people)

    audit.send("", people.admin, {"planned_end": "2026-04-03"}, method="PATCH")
    started(audit, people)
    audit.send(
        "assess",
        people.lead,
        {"clause_id": "8.5", "result": "conforming", "notes": "Batch records"},
    )
    reviewed(audit, people)
    audit.send("decide", people.decider, {"outcome": "grant", "reasons": "Conforms"})
    assert decision(http, audit, people.admin)["stale"] is False
    audit.send("close", people.lead)

    # A version of the audit's standard template published after the
    # decision makes it stale (the audit itself stays on version 1).
    template = http.get(audit.url, headers=people.admin).json()
    base = f"/standard-templates/{template['standard_template_id']}"
    for step in ("new-draft", "publish"):
        done = http.post(f"{base}/{step}", headers=people.admin)
        assert done.status_code == 200, done.text
    assert done.json()["template_version"] == 2
    r = http.get(
        audit.url,
        headers=people.admin,
        params={"min_position": done.json()["position"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["standard_version"] == 1
    moved = r.json()["decision"]
    assert (moved["stale"], moved["changes"]) == (
        True,
        [
            {
                "kind": "template",
                "id": template["standard_template_id"],
                "from_version": 1,
                "to_version": 2,
            }
        ],
    )
    # As of the decision, the later version did not exist yet.
    then = http.get(
        audit.url, headers=people.admin, params={"as_of_version": audit.version}
    )
    assert then.status_code == 200, then.text
    assert then.json()["decision"]["stale"] is False

    assert audit.version == 10
    again = audit.send("close", people.lead, status=409)
    assert again.json()["code"] == "audit.closed"


def test_a_major_nonconformity_holds_the_audit_open_until_verified(http):
    people = Tenant()
    audit = planned_audit(http, people)
    started(audit, people)
    raised = audit.send(
        "findings",
        people.lead,
        {
            "clause_id": "8.5",
            "grade": "major_nonconformity",
            "description": "Production is not controlled",
            "objective_evidence": "No work instructions at line 2",
        },
        status=201,
    )
    finding = f"findings/{raised.json()['finding_id']}"
    assert raised.headers["location"] == f"{audit.url}/{finding}"
    reviewed(audit, people)
    grant = {"outcome": "grant", "reasons": "Conforms"}
    refused = audit.send("decide", people.decider, grant, status=409)
    assert refused.json()["code"] == "audit.unverified_major_nonconformity"
    audit.send("decide", people.decider, {"outcome": "refuse", "reasons": "Major"})
    decided = decision(http, audit, people.admin)
    assert (decided["outcome"], decided["stale"], decided["changes"]) == (
        "refuse",
        False,
        [],
    )
    finding_id = raised.json()["finding_id"]
    taken_on = decided["basis"]["finding_versions"][finding_id]

    response = {
        "root_cause": "Instructions never written",
        "correction": "Line 2 stopped",
        "corrective_action": "Write and train work instructions",
        "due_date": (datetime.now(UTC).date() + timedelta(days=60)).isoformat(),
    }
    for step, who, body in [
        ("respond", people.client, response),
        ("accept-response", people.lead, None),
        ("implement", people.client, None),
    ]:
        closing = audit.send("close", people.lead, status=409)
        assert closing.json()["code"] == "audit.unverified_major_nonconformity"
        audit.send(f"{finding}/{step}", who, body)
        moved = decision(http, audit, people.admin)
        assert moved["stale"] is True
        assert moved["changes"] == [
            {
                "kind": "finding",
                "id": finding_id,
                "from_version": taken_on,
                "to_version": audit.version,
            }
        ]
    audit.send(f"{finding}/verify", people.lead)
    audit.send("close", people.lead)


def test_an_auditor_cannot_record_the_decision(http):
    people = Tenant()
    audit = planned_audit(http, people)
    refused = audit.send(
        "decide",
        people.lead,
        {"outcome": "grant", "reasons": "Looks fine"},
        status=403,
    )
    assert refused.json()["code"] == "forbidden"
    assert refused.json()["permission"] == "audit:decide"


def test_commands_date_in_the_tenants_time_zone(http, container):
    """Whatever the hour, one of two zones 25 hours apart has another date
    than UTC now: the audit's start date must be that zone's date."""
    people = Tenant()
    now = datetime.now(UTC)
    zone, offset = (
        ("Pacific/Kiritimati", 14) if now.hour >= 10 else ("Pacific/Pago_Pago", -11)
    )
    expected = (now + timedelta(hours=offset)).date()
    assert expected != now.date()

    refused = http.post(
        "/tenant/settings/time-zone", json={"time_zone": zone}, headers=people.lead
    )
    assert refused.status_code == 403, refused.text
    bad = http.post(
        "/tenant/settings/time-zone",
        json={"time_zone": "Mars/Olympus"},
        headers=people.admin,
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["errors"][0]["field"] == "time_zone"
    before = http.get("/tenant/settings", headers=people.lead).json()
    assert (before["time_zone"], before["version"]) == ("UTC", 0)

    set_zone = http.post(
        "/tenant/settings/time-zone", json={"time_zone": zone}, headers=people.admin
    )
    assert set_zone.status_code == 200, set_zone.text
    shown = http.get("/tenant/settings", headers=people.lead)
    assert shown.headers["etag"] == '"1"'
    assert shown.json()["time_zone"] == zone
    assert shown.json()["today"] == expected.isoformat()

    audit = planned_audit(http, people)
    started(audit, people)
    stored = container.event_store.load(Audit, UUID(audit.url.rsplit("/", 1)[1]))
    assert stored.started_on == expected
