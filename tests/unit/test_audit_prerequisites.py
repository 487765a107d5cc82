"""Planning an audit against the organization, template and certification cycle."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from domain.audit import Audit
from domain.audit_prerequisites import plan_audit
from domain.audit_values import AuditStatus, AuditType
from domain.certificate import Certificate
from domain.errors import InvalidValueError, NotFoundError, RuleViolationError
from domain.events import EventMeta
from domain.organization import Organization
from domain.standard_template import StandardTemplate

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
OTHER_TENANT = EventMeta("tenant-b", "bob", "req-2", "req-2")
TODAY = date(2026, 3, 2)


def organization(meta: EventMeta = META) -> Organization:
    org = Organization.register(meta, "Acme", "GB")
    org.add_site(meta, "Head office", "1 Road")
    return org


def template(name: str = "ISO 9001", published: bool = True) -> StandardTemplate:
    tpl = StandardTemplate.draft(META, name, "2015", "Quality management")
    tpl.add_clause(META, "4", "Context", "Understand the organization")
    if published:
        tpl.publish(META, date(2026, 1, 5))
    return tpl


def plan(org: Organization, tpl: StandardTemplate, **changes) -> Audit:
    values = {
        "organization": org,
        "template": tpl,
        "standard_version": 1,
        "site_ids": [s.id for s in org.sites],
        "audit_type": "stage_1",
        "planned_start": date(2026, 4, 1),
        "planned_end": date(2026, 4, 2),
        "scope_statement": "Design and manufacture of valves",
        "earlier_audits": (),
        "certificates": (),
        "on": TODAY,
    }
    return plan_audit(META, **{**values, **changes})


def closed(audit: Audit) -> Audit:
    audit.assign_team(META, "lena")
    audit.start(META, TODAY)
    audit.draft_report(META, "All conforming")
    audit.submit_for_review(META, "rita")
    audit.approve_review(replace(META, actor_id="rita"))
    audit.record_decision(META, "dora", "grant", "Conforms", TODAY)
    audit.close(META)
    return audit


def certificate(org: Organization, standard: str = "ISO 9001") -> Certificate:
    return Certificate.issue(
        META,
        number="ACME-2026-000001",
        organization_id=org.id,
        site_ids=[s.id for s in org.sites],
        site_scopes=["Valves"],
        standard_name=standard,
        standard_edition="2015",
        audit_id=uuid4(),
        decision_date=date(2026, 1, 10),
        issue_date=date(2026, 1, 10),
        effective_date=date(2026, 1, 10),
        expiry_date=date(2029, 1, 10),
    )


def untouchable():
    raise AssertionError("candidates were read for an audit type that needs none")
    yield  # pragma: no cover


def test_a_planned_audit_takes_the_standard_from_the_published_template():
    org, tpl = organization(), template()
    audit = plan(org, tpl, earlier_audits=untouchable(), certificates=untouchable())
    assert (audit.standard_name, audit.standard_edition) == ("ISO 9001", "2015")
    assert (audit.standard_template_id, audit.standard_version) == (tpl.id, 1)
    assert audit.organization_id == org.id
    assert audit.audit_type is AuditType.STAGE_1
    assert audit.status is AuditStatus.PLANNED


def test_an_archived_organization_gets_no_new_audit():
    org = organization()
    org.archive(META, "No longer a client")
    with pytest.raises(RuleViolationError) as raised:
        plan(org, template())
    assert raised.value.rule == "audit.organization_archived"


def test_a_site_of_another_organization_is_an_invalid_site():
    foreign = organization().sites[0].id
    org = organization()
    with pytest.raises(InvalidValueError) as raised:
        plan(org, template(), site_ids=[org.sites[0].id, foreign])
    assert raised.value.field == "site_ids"
    assert str(foreign) in raised.value.detail


def test_a_removed_site_can_no_longer_be_audited():
    org = organization()
    site = org.sites[0].id
    org.remove_site(META, site)
    with pytest.raises(InvalidValueError) as raised:
        plan(org, template(), site_ids=[site])
    assert raised.value.field == "site_ids"


def test_another_tenants_organization_is_not_found():
    with pytest.raises(NotFoundError):
        plan(organization(OTHER_TENANT), template())


@pytest.mark.parametrize(
    ("tpl", "version"),
    [(template(published=False), 1), (template(), 2)],
    ids=["draft-only", "unknown-version"],
)
def test_an_audit_works_from_a_published_template_version_only(tpl, version):
    with pytest.raises(RuleViolationError) as raised:
        plan(organization(), tpl, standard_version=version)
    assert raised.value.rule == "audit.template_version_not_published"


def test_stage_2_without_any_stage_1_is_refused():
    with pytest.raises(RuleViolationError) as raised:
        plan(organization(), template(), audit_type="stage_2")
    assert raised.value.rule == "audit.stage_1_not_closed"


def test_stage_2_after_a_stage_1_not_closed_yet_is_refused():
    org, tpl = organization(), template()
    stage_1 = plan(org, tpl)
    stage_1.assign_team(META, "lena")
    stage_1.start(META, TODAY)
    with pytest.raises(RuleViolationError) as raised:
        plan(org, tpl, audit_type="stage_2", earlier_audits=[stage_1])
    assert raised.value.rule == "audit.stage_1_not_closed"


def test_stage_2_after_a_closed_stage_1_is_planned():
    org, tpl = organization(), template()
    stage_1 = closed(plan(org, tpl))
    stage_2 = plan(org, tpl, audit_type="stage_2", earlier_audits=[stage_1])
    assert stage_2.audit_type is AuditType.STAGE_2


@pytest.mark.parametrize("other", ["organization", "standard", "type"])
def test_a_closed_audit_of_another_cycle_does_not_open_stage_2(other):
    org, tpl = organization(), template()
    earlier = {
        "organization": lambda: plan(organization(), tpl),
        "standard": lambda: plan(org, template("ISO 14001")),
        "type": lambda: plan(org, tpl, audit_type="special"),
    }[other]()
    with pytest.raises(RuleViolationError) as raised:
        plan(org, tpl, audit_type="stage_2", earlier_audits=[closed(earlier)])
    assert raised.value.rule == "audit.stage_1_not_closed"


def test_surveillance_without_a_certificate_is_refused():
    with pytest.raises(RuleViolationError) as raised:
        plan(organization(), template(), audit_type="surveillance")
    assert raised.value.rule == "audit.no_active_certificate"


def test_surveillance_with_an_active_certificate_is_planned():
    org = organization()
    audit = plan(
        org, template(), audit_type="surveillance", certificates=[certificate(org)]
    )
    assert audit.audit_type is AuditType.SURVEILLANCE


def test_surveillance_with_a_suspended_certificate_is_refused():
    org = organization()
    suspended = certificate(org)
    suspended.suspend(META, "Missed surveillance", date(2026, 2, 1))
    with pytest.raises(RuleViolationError) as raised:
        plan(org, template(), audit_type="surveillance", certificates=[suspended])
    assert raised.value.rule == "audit.no_active_certificate"


def test_surveillance_after_the_certificate_expired_is_refused():
    org = organization()
    with pytest.raises(RuleViolationError) as raised:
        plan(
            org,
            template(),
            audit_type="surveillance",
            certificates=[certificate(org)],
            on=date(2029, 1, 10),
        )
    assert raised.value.rule == "audit.no_active_certificate"


@pytest.mark.parametrize("other", ["organization", "standard"])
def test_another_cycles_certificate_does_not_open_surveillance(other):
    org = organization()
    cert = certificate(organization()) if other == "organization" else None
    cert = cert or certificate(org, standard="ISO 14001")
    with pytest.raises(RuleViolationError) as raised:
        plan(org, template(), audit_type="surveillance", certificates=[cert])
    assert raised.value.rule == "audit.no_active_certificate"
