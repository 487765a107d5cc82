"""Certificates, commanded over HTTP.

The audit routes are not there yet, so each test records its granted audit
(and the organization and published template it refers to) through the
running container's event store with the domain's own commands, then drives
the certificate routes as a client would.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from domain.audit import Audit
from domain.certificate_values import NUMBER_PATTERN
from domain.events import EventMeta
from domain.organization import Organization
from domain.standard_template import StandardTemplate
from infra.postgres.certificate_numbers import PostgresCertificateNumbers
from tests.e2e.conftest import as_user

PROBLEM = "application/problem+json"


def utc_today() -> date:
    return datetime.now(UTC).date()


class Tenant:
    """A fresh tenant with one organization of two sites and a published
    ISO 9001 template, recorded in the pipeline's event store."""

    def __init__(self, pipeline) -> None:
        self.id = f"e2e-cert-{uuid.uuid4().hex[:8]}"
        self.store = pipeline.event_store
        self.meta = EventMeta(self.id, "setup", "e2e-setup", "e2e-setup")
        self.decider = as_user(self.id, "decision_maker", actor="dora")
        self.manager = as_user(self.id, "programme_manager", actor="mia")
        self.auditor = as_user(self.id, "auditor", actor="arun")
        organization = Organization.register(self.meta, "Pumps Ltd", "GB")
        self.sites = [
            organization.add_site(self.meta, name, f"{name} Road 1")
            for name in ("North", "South")
        ]
        template = StandardTemplate.draft(self.meta, "ISO 9001", "2015", "QMS")
        template.add_clause(self.meta, "8", "Operation", "Operational planning")
        template.publish(self.meta, utc_today() - timedelta(days=60))
        self.store.append(organization, template)
        self.organization, self.template = organization, template

    def granted_audit(self, audit_type: str, decided_on: date) -> Audit:
        """A clean audit of both sites, walked to a grant decided on ``decided_on``."""
        meta, start = self.meta, decided_on - timedelta(days=10)
        audit = Audit.plan(
            meta,
            organization_id=self.organization.id,
            site_ids=self.sites,
            standard_template_id=self.template.id,
            standard_version=1,
            standard_name="ISO 9001",
            standard_edition="2015",
            audit_type=audit_type,
            planned_start=start,
            planned_end=start + timedelta(days=2),
            scope_statement="Design and manufacture of pumps",
        )
        audit.assign_team(meta, "lena", ("arun",))
        audit.start(meta, start)
        audit.assess_requirement(meta, "8", "conforming")
        audit.draft_report(meta, "No nonconformities")
        audit.submit_for_review(meta, "rita")
        audit.approve_review(replace(meta, actor_id="rita"))
        audit.record_decision(meta, "dmitri", "grant", "Meets ISO 9001", decided_on)
        self.store.append(audit)
        return audit

    def terms(self, audit: Audit, effective: date, *sites: uuid.UUID) -> dict:
        return {
            "audit_id": str(audit.id),
            "site_scopes": [
                {"site_id": str(s), "scope": "Manufacture of pumps"}
                for s in sites or self.sites
            ],
            "effective_date": effective.isoformat(),
            "expiry_date": (effective + timedelta(days=3 * 365)).isoformat(),
        }


def test_a_certificate_is_issued_suspended_reinstated_revised_and_withdrawn(
    http, pipeline
):
    tenant = Tenant(pipeline)
    decided = utc_today() - timedelta(days=5)
    audit = tenant.granted_audit("stage_2", decided)

    issued = http.post(
        "/certificates", json=tenant.terms(audit, decided), headers=tenant.decider
    )
    assert issued.status_code == 201, issued.text
    first = issued.json()
    assert issued.headers["location"] == f"/certificates/{first['id']}"
    assert issued.headers["etag"] == '"1"'
    assert NUMBER_PATTERN.fullmatch(first["number"])
    code = PostgresCertificateNumbers(pipeline.database).code_of(tenant.id)
    assert first["number"].startswith(f"{code}-{utc_today().year}-")
    assert len(first["verification_code"]) == 20
    base = issued.headers["location"]

    suspended = http.post(
        f"{base}/suspend",
        json={"reason": "Surveillance audit not held", "max_suspension_days": 90},
        headers={**tenant.manager, "If-Match": '"1"'},
    )
    assert suspended.status_code == 200, suspended.text
    renewal = tenant.granted_audit("recertification", utc_today() - timedelta(days=1))
    renewal_terms = tenant.terms(renewal, utc_today(), tenant.sites[0])
    blocked = http.post(f"{base}/revise", json=renewal_terms, headers=tenant.decider)
    assert blocked.status_code == 409
    assert blocked.json()["code"] == "certificate.suspended"
    reinstated = http.post(f"{base}/reinstate", headers=tenant.manager)
    assert reinstated.status_code == 200, reinstated.text
    assert reinstated.json()["version"] == 3

    revised = http.post(f"{base}/revise", json=renewal_terms, headers=tenant.decider)
    assert revised.status_code == 201, revised.text
    second = revised.json()
    assert second["id"] != first["id"]
    assert (second["number"], second["version"]) == (first["number"], 1)
    assert second["verification_code"] != first["verification_code"]
    assert revised.headers["location"] == f"/certificates/{second['id']}"
    again = http.post(f"{base}/revise", json=renewal_terms, headers=tenant.decider)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["code"] == "certificate.superseded"

    new = revised.headers["location"]
    withdrawn = http.post(
        f"{new}/withdraw",
        json={"reason": "Client ceased trading"},
        headers=tenant.manager,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    for path, body, who in (
        ("reinstate", None, tenant.manager),
        ("suspend", {"reason": "Again"}, tenant.manager),
        ("withdraw", {"reason": "Again"}, tenant.manager),
        ("expire", None, tenant.manager),
        ("revise", renewal_terms, tenant.decider),
    ):
        refused = http.post(f"{new}/{path}", json=body, headers=who)
        assert refused.status_code == 409, (path, refused.text)
        assert refused.json()["code"] == "certificate.withdrawn"


def test_issuing_needs_the_decision_maker_role_and_the_audit_s_sites(http, pipeline):
    tenant = Tenant(pipeline)
    decided = utc_today() - timedelta(days=2)
    audit = tenant.granted_audit("stage_2", decided)
    terms = tenant.terms(audit, decided)

    forbidden = http.post("/certificates", json=terms, headers=tenant.auditor)
    assert forbidden.status_code == 403
    elsewhere = tenant.terms(audit, decided, uuid.uuid4())
    outside = http.post("/certificates", json=elsewhere, headers=tenant.decider)
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "site_scopes"
    early = tenant.terms(audit, decided - timedelta(days=1))
    too_early = http.post("/certificates", json=early, headers=tenant.decider)
    assert too_early.status_code == 409
    assert too_early.json()["code"] == "certificate.effective_before_decision"
    other_tenant = as_user("e2e-cert-other", "decision_maker")
    hidden = http.post("/certificates", json=terms, headers=other_tenant)
    assert hidden.status_code == 404
    unknown = http.post(
        f"/certificates/{uuid.uuid4()}/suspend",
        json={"reason": "Why"},
        headers=tenant.manager,
    )
    assert unknown.status_code == 404
