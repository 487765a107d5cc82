"""The query API over real projections: lists, filters, details, CSV, and
tenant isolation on every collection and detail."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

import httpx

from domain.audit import Audit
from domain.document_template import DocumentTemplate
from tests.e2e.conftest import as_user
from tests.e2e.test_certificate_commands import Tenant, utc_today

PROBLEM = "application/problem+json"
WAIT_SECONDS = 90


def read(http: httpx.Client, path: str, headers, position: int, **params):
    """GET ``path`` once its projection reached ``position`` (a consumer group
    that just joined may still be catching up: retry 503 as a client would)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        r = http.get(path, headers=headers, params={"min_position": position, **params})
        if r.status_code != 503 or time.monotonic() > deadline:
            return r
        time.sleep(float(r.headers.get("retry-after", "1")))


class World:
    """One tenant with an organization, templates, a stage 2 audit with a
    finding, and a certificate issued on it."""

    def __init__(self, http: httpx.Client, pipeline) -> None:
        self.tenant = Tenant(pipeline)
        t = self.tenant
        self.reader = as_user(t.id, "compliance_officer", actor="cora")
        layout = DocumentTemplate.create(
            t.meta, "certificate", "Certificate", "ACME", ("holder", "scope"), "Sig"
        )
        t.store.append(layout)
        self.document_template = layout
        self.audit = t.granted_audit("stage_2", utc_today() - timedelta(days=3))
        issued = http.post(
            "/certificates",
            json=t.terms(self.audit, utc_today() - timedelta(days=3)),
            headers=t.decider,
        )
        assert issued.status_code == 201, issued.text
        self.certificate = issued.json()
        self.position = self.certificate["position"]
        self.running = self._audit_with_finding()

    def _audit_with_finding(self) -> Audit:
        """A stage 1 audit under way with one minor nonconformity whose
        corrective action was due yesterday (so it is overdue)."""
        t, start = self.tenant, utc_today() - timedelta(days=20)
        audit = Audit.plan(
            t.meta,
            organization_id=t.organization.id,
            site_ids=t.sites[:1],
            standard_template_id=t.template.id,
            standard_version=1,
            standard_name="ISO 9001",
            standard_edition="2015",
            audit_type="stage_1",
            planned_start=start,
            planned_end=start + timedelta(days=1),
            scope_statement="Readiness review",
        )
        audit.assign_team(t.meta, "lena", ("omar",))
        audit.start(t.meta, start)
        self.finding_id = audit.raise_finding(
            t.meta, "8", "minor_nonconformity", "Log gap", "Record missing", start
        )
        audit.submit_response(
            t.meta,
            self.finding_id,
            "Oversight",
            "Logged",
            "Weekly log check",
            utc_today() - timedelta(days=1),
        )
        self.position = max(self.position, t.store.append(audit))
        return audit

    def paths(self) -> dict[str, str]:
        """Every detail route with this tenant's ids."""
        t = self.tenant
        return {
            "organization": f"/organizations/{t.organization.id}",
            "audit": f"/audits/{self.audit.id}",
            "certificate": f"/certificates/{self.certificate['id']}",
            "standard template": f"/standard-templates/{t.template.id}",
            "document template": f"/document-templates/{self.document_template.id}",
        }


COLLECTIONS = (
    "/organizations",
    "/audits",
    "/findings",
    "/certificates",
    "/standard-templates",
    "/document-templates",
)


def test_every_collection_and_detail_answers_its_own_tenant_only(http, pipeline):
    world = World(http, pipeline)
    details = world.paths()
    for name, path in details.items():
        own = read(http, path, world.reader, world.position)
        assert own.status_code == 200, (name, own.text)
        assert own.headers["etag"].strip('"').isdigit(), name

    intruder = as_user(f"{world.tenant.id}-other", "compliance_officer")
    for name, path in details.items():
        other = read(http, path, intruder, world.position)
        assert other.status_code == 404, (name, other.text)
        assert other.headers["content-type"] == PROBLEM
        assert str(world.tenant.id) not in other.text
    for path in COLLECTIONS:
        listed = read(http, path, intruder, world.position)
        assert listed.status_code == 200, (path, listed.text)
        assert listed.json()["items"] == [], path


def test_the_audit_detail_shows_team_assessment_and_decision(http, pipeline):
    world = World(http, pipeline)
    r = read(http, f"/audits/{world.audit.id}", world.reader, world.position)
    assert r.status_code == 200, r.text
    audit = r.json()
    assert r.headers["etag"] == f'"{world.audit.version}"'
    assert audit["status"] == "decided"
    assert audit["lead_auditor"] == "lena"
    assert sorted(audit["team"]) == ["arun", "lena"]
    assert [(a["clause_id"], a["result"]) for a in audit["assessments"]] == [
        ("8", "conforming")
    ]
    assert (audit["decision_outcome"], audit["decided_by"]) == ("grant", "dmitri")
    assert audit["findings"] == []
    assert audit["findings_major"] == 0


def test_lists_filter_sort_page_and_export(http, pipeline):
    world = World(http, pipeline)
    reader, position = world.reader, world.position
    mine = read(
        http, "/certificates", reader, position, status="active", sort="-expiry_date"
    )
    assert mine.status_code == 200, mine.text
    assert [c["number"] for c in mine.json()["items"]] == [world.certificate["number"]]
    none = read(http, "/certificates", reader, position, status="withdrawn")
    assert none.json()["items"] == []

    unknown = read(http, "/audits", reader, position, colour="red")
    assert unknown.status_code == 400
    assert unknown.headers["content-type"] == PROBLEM
    assert "status" in unknown.json()["detail"]
    bad_sort = read(http, "/audits", reader, position, sort="scope_statement")
    assert bad_sort.status_code == 400
    assert "planned_start" in bad_sort.json()["detail"]
    bad_value = read(http, "/audits", reader, position, status="sleeping")
    assert bad_value.status_code == 400

    exported = read(http, "/audits", reader, position, format="csv", status="decided")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["id"] for r in rows] == [str(world.audit.id)]
    assert rows[0]["status"] == "decided"


def test_a_read_waits_for_the_write_it_names(http, pipeline):
    world = World(http, pipeline)
    t = world.tenant
    suspended = http.post(
        f"/certificates/{world.certificate['id']}/suspend",
        json={"reason": "Surveillance overdue"},
        headers=t.manager,
    )
    assert suspended.status_code == 200, suspended.text
    shown = read(
        http,
        f"/certificates/{world.certificate['id']}",
        world.reader,
        suspended.json()["position"],
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["status"] == "suspended"
    assert shown.headers["etag"] == '"2"'
    ahead = http.get(
        "/certificates",
        headers=world.reader,
        params={"min_position": suspended.json()["position"] + 10**9},
    )
    assert ahead.status_code == 422


def test_the_findings_register_filters_by_grade_and_shows_overdue(http, pipeline):
    world = World(http, pipeline)
    reader, position = world.reader, world.position
    minors = read(http, "/findings", reader, position, grade="minor_nonconformity")
    assert minors.status_code == 200, minors.text
    [finding] = minors.json()["items"]
    assert finding["id"] == str(world.finding_id)
    assert finding["audit_id"] == str(world.running.id)
    assert (finding["status"], finding["overdue"]) == ("response_submitted", True)
    majors = read(http, "/findings", reader, position, grade="major_nonconformity")
    assert majors.json()["items"] == []
    of_audit = read(http, "/findings", reader, position, audit_id=str(world.running.id))
    assert [f["id"] for f in of_audit.json()["items"]] == [str(world.finding_id)]
    omar = read(http, "/audits", reader, position, auditor="omar")
    assert [a["id"] for a in omar.json()["items"]] == [str(world.running.id)]
    nobody = read(http, "/audits", reader, position, auditor="zoe")
    assert nobody.json()["items"] == []
    detail = read(
        http,
        f"/audits/{world.running.id}/findings/{world.finding_id}",
        reader,
        position,
    )
    assert detail.status_code == 200, detail.text
    assert detail.headers["etag"] == f'"{world.running.version}"'


def test_an_organization_shows_its_certificates_in_force(http, pipeline):
    world = World(http, pipeline)
    path = f"/organizations/{world.tenant.organization.id}"
    shown = read(http, path, world.reader, world.position)
    assert shown.status_code == 200, shown.text
    [held] = shown.json()["certificates"]
    assert (held["number"], held["status"]) == (world.certificate["number"], "active")
    assert len(shown.json()["sites"]) == 2

    unknown = http.get("/organizations", params={"colour": "red"}, headers=world.reader)
    assert unknown.status_code == 400
    assert "name_prefix" in unknown.json()["detail"]
