"""The rule spanning audit and certificate: which audits a certificate can
rest on, and what it takes from them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from domain.audit import Audit
from domain.certificate import Certificate
from domain.certification import certification_basis, revision_basis
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
ORG, SITE_A, SITE_B, TEMPLATE = (uuid4() for _ in range(4))
START, END, DECIDED = date(2026, 1, 5), date(2026, 1, 7), date(2026, 1, 10)
LEAD, REVIEWER, DECIDER = "lena", "rita", "dmitri"
MAJOR, MINOR = "major_nonconformity", "minor_nonconformity"


def started_audit(
    meta=META,
    *,
    organization_id=ORG,
    site_ids=(SITE_A, SITE_B),
    standard_name="ISO 9001",
    audit_type="stage_2",
) -> Audit:
    """An audit under way, with its lead auditor."""
    audit = Audit.plan(
        meta,
        organization_id=organization_id,
        site_ids=site_ids,
        standard_template_id=TEMPLATE,
        standard_version=1,
        standard_name=standard_name,
        standard_edition="2015",
        audit_type=audit_type,
        planned_start=START,
        planned_end=END,
        scope_statement="Design and manufacture of pumps",
    )
    audit.assign_team(meta, LEAD)
    audit.start(meta, START)
    return audit


def reviewed(audit: Audit, meta=META) -> Audit:
    """``audit`` with its report drafted, reviewed and approved."""
    audit.draft_report(meta, "Report")
    audit.submit_for_review(meta, REVIEWER)
    audit.approve_review(replace(meta, actor_id=REVIEWER))
    return audit


def decided(audit: Audit, outcome="grant", meta=META, on=DECIDED) -> Audit:
    """``audit`` reviewed and decided."""
    reviewed(audit, meta).record_decision(meta, DECIDER, outcome, "Reasons", on)
    return audit


def granted_audit(meta=META, on=DECIDED, **plan) -> Audit:
    """A clean audit decided to grant on ``on``."""
    return decided(started_audit(meta, **plan), meta=meta, on=on)


def granted_regardless(audit: Audit, meta=META) -> Audit:
    """A grant recorded without the checks the audit makes today (e.g. under
    an earlier rule): the certificate must check again."""
    reviewed(audit, meta).trigger_event(
        Audit.DecisionRecorded,
        meta=meta,
        outcome="grant",
        reasons="Recorded under an earlier rule",
        decided_by=DECIDER,
        decided_on=DECIDED,
        audit_version=None,
        template_version=None,
        finding_versions=None,
    )
    return audit


def raise_nc(audit: Audit, grade: str, meta=META):
    return audit.raise_finding(meta, "8.5.1", grade, "No calibration", "G-12", START)


def respond(audit: Audit, finding_id, meta=META) -> None:
    audit.submit_response(
        meta, finding_id, "No schedule", "Calibrated G-12", "Schedule all", END
    )


def rule_of(call) -> str:
    with pytest.raises(RuleViolationError) as raised:
        call()
    return raised.value.rule


def test_a_clean_grant_gives_the_audit_s_organization_standard_and_decision():
    audit = granted_audit()
    basis = certification_basis(audit, [SITE_B])
    assert (basis.audit_id, basis.organization_id) == (audit.id, ORG)
    assert (basis.standard_name, basis.standard_edition) == ("ISO 9001", "2015")
    assert basis.decision_date == DECIDED


def test_no_certificate_without_a_decision_or_on_a_refusal():
    undecided = reviewed(started_audit())
    refused = decided(started_audit(), outcome="refuse")
    for audit in (undecided, refused):
        assert rule_of(lambda a=audit: certification_basis(a, [SITE_A])) == (
            "certificate.no_grant_decision"
        )


def test_a_reopened_audit_s_earlier_grant_no_longer_counts():
    audit = granted_audit()
    audit.close(META)
    audit.reopen(META, "Complaint about the sampling")
    assert rule_of(lambda: certification_basis(audit, [SITE_A])) == (
        "certificate.no_grant_decision"
    )


def test_an_open_major_nonconformity_blocks_the_certificate_even_after_a_grant():
    audit = started_audit()
    raise_nc(audit, MAJOR)
    granted_regardless(audit)
    assert rule_of(lambda: certification_basis(audit, [SITE_A])) == (
        "certificate.open_major_nonconformity"
    )


def test_a_minor_without_an_accepted_plan_blocks_the_certificate():
    audit = started_audit()
    respond(audit, raise_nc(audit, MINOR))  # submitted, not accepted
    granted_regardless(audit)
    assert rule_of(lambda: certification_basis(audit, [SITE_A])) == (
        "certificate.minor_without_accepted_plan"
    )


def test_a_verified_major_and_a_minor_with_an_accepted_plan_allow_it():
    audit = started_audit()
    major, minor = raise_nc(audit, MAJOR), raise_nc(audit, MINOR)
    for finding in (major, minor):
        respond(audit, finding)
        audit.accept_response(META, finding)
    audit.implement_corrective_action(META, major, END)
    audit.verify_effectiveness(META, major, LEAD, END)
    decided(audit)
    assert certification_basis(audit, [SITE_A]).audit_id == audit.id


def test_only_sites_the_audit_covered_can_be_certified():
    audit = granted_audit(site_ids=(SITE_A,))
    stranger = uuid4()
    with pytest.raises(InvalidValueError) as raised:
        certification_basis(audit, [SITE_A, stranger])
    assert raised.value.field == "site_scopes"
    assert str(stranger) in raised.value.detail


def certificate_on(audit: Audit) -> Certificate:
    basis = certification_basis(audit, [SITE_A])
    return Certificate.issue(
        META,
        number="ACME-2026-000001",
        organization_id=basis.organization_id,
        site_ids=[SITE_A],
        site_scopes=["Pumps"],
        standard_name=basis.standard_name,
        standard_edition=basis.standard_edition,
        audit_id=basis.audit_id,
        decision_date=basis.decision_date,
        issue_date=DECIDED,
        effective_date=DECIDED,
        expiry_date=date(2029, 1, 10),
    )


def test_a_revision_rests_on_an_audit_of_the_same_organization_and_standard():
    previous = certificate_on(granted_audit())
    renewal = granted_audit(audit_type="recertification")
    assert revision_basis(renewal, previous, [SITE_A]).audit_id == renewal.id

    for other in (
        granted_audit(organization_id=uuid4(), audit_type="recertification"),
        granted_audit(standard_name="ISO 14001", audit_type="special"),
    ):
        with pytest.raises(InvalidValueError) as raised:
            revision_basis(other, previous, [SITE_A])
        assert raised.value.field == "audit_id"


def test_a_revision_makes_the_same_checks_as_an_issue():
    previous = certificate_on(granted_audit())
    refused = decided(started_audit(audit_type="recertification"), outcome="refuse")
    assert rule_of(lambda: revision_basis(refused, previous, [SITE_A])) == (
        "certificate.no_grant_decision"
    )


@pytest.mark.parametrize(
    "audit_type", ["stage_1", "surveillance", "recertification", "special"]
)
def test_a_first_certificate_rests_on_a_stage_2_audit(audit_type):
    audit = granted_audit(audit_type=audit_type)
    assert rule_of(lambda: certification_basis(audit, [SITE_A])) == (
        "certificate.audit_type_not_certifying"
    )


@pytest.mark.parametrize("audit_type", ["stage_1", "stage_2", "surveillance"])
def test_a_revision_rests_on_a_recertification_or_special_audit(audit_type):
    previous = certificate_on(granted_audit())
    audit = granted_audit(audit_type=audit_type)
    assert rule_of(lambda: revision_basis(audit, previous, [SITE_A])) == (
        "certificate.audit_type_not_certifying"
    )
