"""Audit and finding commands over the in-memory twin of the event store."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from commands.audits import (
    ApproveReview,
    AssessRequirement,
    AssignTeam,
    AuditAction,
    AuditService,
    ChangeAuditDetails,
    DraftReport,
    PlanAudit,
    RecordDecision,
    ReopenAudit,
    SubmitForReview,
)
from commands.context import CommandContext
from commands.findings import FindingAction, RaiseFinding, SubmitResponse
from commands.organizations import (
    AddSite,
    ArchiveOrganization,
    OrganizationService,
    RegisterOrganization,
)
from commands.ports import Idempotency, IndexEntry, SideWrites
from commands.standard_templates import (
    AddClause,
    DraftStandardTemplate,
    StandardTemplateService,
    TemplateAction,
)
from domain.audit import Audit
from domain.audit_values import AuditStatus, FindingStatus
from domain.certificate import Certificate
from domain.errors import (
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
)
from domain.events import EventMeta
from domain.principal import Principal, Role
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore

TODAY = date(2026, 3, 2)
ADMIN = Principal("tenant-a", "alice", frozenset({Role.TENANT_ADMIN}))
LEAD = Principal("tenant-a", "lena", frozenset({Role.AUDITOR}))
REVIEWER = Principal("tenant-a", "rita", frozenset({Role.TECHNICAL_REVIEWER}))
DECIDER = Principal("tenant-a", "dora", frozenset({Role.DECISION_MAKER}))
CLIENT = Principal("tenant-a", "carl", frozenset({Role.CLIENT_ADMIN}))
OTHER_TENANT = Principal("tenant-b", "bob", frozenset({Role.TENANT_ADMIN}))


def ctx(principal: Principal = ADMIN) -> CommandContext:
    return CommandContext(principal, "req-1", today=TODAY)


@pytest.fixture
def store():
    return LibraryEventStore(in_memory_env())


@pytest.fixture
def audits(store):
    return AuditService(store)


class Client:
    """An organization with one site and a published ISO 9001 template."""

    def __init__(self, store, principal: Principal = ADMIN) -> None:
        orgs = OrganizationService(store)
        self.organizations = orgs
        self.id = orgs.register_organization(
            ctx(principal), RegisterOrganization("Acme", "GB")
        ).id
        self.site_id = orgs.add_site(
            ctx(principal), AddSite(self.id, "Head office", "1 Road")
        ).site_id
        templates = StandardTemplateService(store)
        self.template_id = templates.draft(
            ctx(principal), DraftStandardTemplate("ISO 9001", "2015", "QMS")
        ).id
        templates.add_clause(
            ctx(principal), AddClause(self.template_id, "4", "Context", "Text")
        )
        templates.publish(ctx(principal), TemplateAction(self.template_id))

    def plan(self, audit_type: str = "stage_1", **changes) -> PlanAudit:
        command = PlanAudit(
            organization_id=self.id,
            site_ids=(self.site_id,),
            standard_template_id=self.template_id,
            standard_version=1,
            audit_type=audit_type,
            planned_start=date(2026, 4, 1),
            planned_end=date(2026, 4, 2),
            scope_statement="Design and manufacture of valves",
        )
        return replace(command, **changes)


@pytest.fixture
def client(store):
    return Client(store)


def started(audits: AuditService, client: Client, audit_type: str = "stage_1"):
    audit_id = audits.plan(ctx(), client.plan(audit_type)).id
    audits.assign_team(ctx(), AssignTeam(audit_id, "lena", ("arun",)))
    audits.start(ctx(LEAD), AuditAction(audit_id))
    return audit_id


def decided(audits: AuditService, audit_id, outcome: str = "grant") -> None:
    audits.draft_report(ctx(LEAD), DraftReport(audit_id, "Summary"))
    audits.submit_for_review(ctx(LEAD), SubmitForReview(audit_id, "rita"))
    audits.approve_review(ctx(REVIEWER), ApproveReview(audit_id))
    audits.record_decision(ctx(DECIDER), RecordDecision(audit_id, outcome, "Reasons"))


def refused_rule(call) -> str:
    with pytest.raises(RuleViolationError) as raised:
        call()
    return raised.value.rule


# -- planning ------------------------------------------------------------------


def test_a_planned_audit_is_indexed_under_its_organization_and_standard(
    audits, client, store
):
    accepted = audits.plan(ctx(), client.plan())

    assert accepted.version == 1
    assert accepted.position == store.head()
    audit = store.load(Audit, accepted.id)
    assert (audit.standard_name, audit.standard_edition) == ("ISO 9001", "2015")
    assert audit.tenant_id == "tenant-a"
    assert store.find("tenant-a", "audit", client.id, "ISO 9001") == [accepted.id]


def test_an_archived_organization_gets_no_new_audit(audits, client):
    client.organizations.archive(ctx(), ArchiveOrganization(client.id, "Gone"))
    rule = refused_rule(lambda: audits.plan(ctx(), client.plan()))
    assert rule == "audit.organization_archived"


def test_a_site_of_another_organization_is_refused_and_nothing_is_written(
    audits, client, store
):
    foreign = Client(store).site_id
    head = store.head()
    with pytest.raises(InvalidValueError) as raised:
        audits.plan(ctx(), client.plan(site_ids=(client.site_id, foreign)))
    assert raised.value.field == "site_ids"
    assert store.head() == head


def test_an_unpublished_template_version_is_refused(audits, client, store):
    templates = StandardTemplateService(store)
    templates.start_new_draft(ctx(), TemplateAction(client.template_id))
    rule = refused_rule(lambda: audits.plan(ctx(), client.plan(standard_version=2)))
    assert rule == "audit.template_version_not_published"


def test_another_tenants_organization_is_not_found(audits, store, client):
    theirs = Client(store, OTHER_TENANT)
    with pytest.raises(NotFoundError):
        audits.plan(ctx(), client.plan(organization_id=theirs.id))
    with pytest.raises(NotFoundError):
        audits.plan(ctx(), client.plan(standard_template_id=theirs.template_id))


def test_an_organization_outside_the_callers_scope_is_not_found(audits, client):
    scoped = replace(ADMIN, organization_ids=frozenset({uuid4()}))
    with pytest.raises(NotFoundError):
        audits.plan(ctx(scoped), client.plan())


def test_stage_2_without_a_stage_1_is_refused(audits, client):
    rule = refused_rule(lambda: audits.plan(ctx(), client.plan("stage_2")))
    assert rule == "audit.stage_1_not_closed"


def test_stage_2_while_the_stage_1_is_not_closed_is_refused(audits, client):
    stage_1 = started(audits, client)
    decided(audits, stage_1)
    rule = refused_rule(lambda: audits.plan(ctx(), client.plan("stage_2")))
    assert rule == "audit.stage_1_not_closed"


def test_stage_2_after_the_stage_1_closed_is_planned(audits, client, store):
    stage_1 = started(audits, client)
    decided(audits, stage_1)
    audits.close(ctx(LEAD), AuditAction(stage_1))

    stage_2 = audits.plan(ctx(), client.plan("stage_2"))
    assert store.load(Audit, stage_2.id).audit_type == "stage_2"


def test_surveillance_without_an_active_certificate_is_refused(audits, client):
    rule = refused_rule(lambda: audits.plan(ctx(), client.plan("surveillance")))
    assert rule == "audit.no_active_certificate"


def issue_certificate(store, client: Client, tenant: str = "tenant-a") -> Certificate:
    certificate = Certificate.issue(
        EventMeta(tenant, "dora", "req-c", "req-c"),
        number="ACME-2026-000001",
        organization_id=client.id,
        site_ids=[client.site_id],
        site_scopes=["Valves"],
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_id=uuid4(),
        decision_date=date(2026, 1, 10),
        issue_date=date(2026, 1, 10),
        effective_date=date(2026, 1, 10),
        expiry_date=date(2029, 1, 10),
    )
    entry = IndexEntry("certificate", certificate.id, tenant, client.id, "ISO 9001")
    store.append(certificate, side=SideWrites(index=(entry,)))
    return certificate


def test_surveillance_with_an_active_certificate_is_planned(audits, client, store):
    issue_certificate(store, client)
    accepted = audits.plan(ctx(), client.plan("surveillance"))
    assert store.load(Audit, accepted.id).audit_type == "surveillance"


def test_a_certificate_indexed_for_another_tenant_does_not_count(audits, client, store):
    issue_certificate(store, client, tenant="tenant-b")
    rule = refused_rule(lambda: audits.plan(ctx(), client.plan("surveillance")))
    assert rule == "audit.no_active_certificate"


def test_planning_needs_the_plan_permission(audits, client):
    with pytest.raises(PermissionDeniedError):
        audits.plan(ctx(LEAD), client.plan())


# -- planned details -------------------------------------------------------------


def test_changing_only_the_dates_keeps_scope_and_sites(audits, client, store):
    audit_id = audits.plan(ctx(), client.plan()).id
    audits.change_details(
        ctx(),
        ChangeAuditDetails(audit_id, planned_end=date(2026, 4, 3), expected_version=1),
    )
    audit = store.load(Audit, audit_id)
    assert (audit.planned_start, audit.planned_end) == (
        date(2026, 4, 1),
        date(2026, 4, 3),
    )
    assert audit.site_ids == (client.site_id,)
    assert audit.scope_statement == "Design and manufacture of valves"


def test_changed_sites_must_be_sites_of_the_organization(audits, client, store):
    audit_id = audits.plan(ctx(), client.plan()).id
    foreign = Client(store).site_id
    with pytest.raises(InvalidValueError) as raised:
        audits.change_details(ctx(), ChangeAuditDetails(audit_id, site_ids=(foreign,)))
    assert raised.value.field == "site_ids"


# -- conducting, deciding, closing -------------------------------------------------


def test_the_decision_is_the_callers_and_dated_today(audits, client, store):
    audit_id = started(audits, client)
    audits.assess_requirement(
        ctx(LEAD), AssessRequirement(audit_id, "4", "conforming", "Seen")
    )
    decided(audits, audit_id)

    decision = store.load(Audit, audit_id).decision
    assert (decision.decided_by, decision.decided_on) == ("dora", TODAY)


def test_an_auditor_cannot_decide(audits, client):
    audit_id = started(audits, client)
    with pytest.raises(PermissionDeniedError):
        audits.record_decision(
            ctx(LEAD), RecordDecision(audit_id, "grant", "Looks fine")
        )


def test_only_a_tenant_admin_reopens(audits, client, store):
    audit_id = started(audits, client)
    decided(audits, audit_id)
    audits.close(ctx(LEAD), AuditAction(audit_id))
    with pytest.raises(PermissionDeniedError):
        audits.reopen(ctx(LEAD), ReopenAudit(audit_id, "Complaint"))
    audits.reopen(ctx(), ReopenAudit(audit_id, "Complaint"))
    assert store.load(Audit, audit_id).status is AuditStatus.IN_PROGRESS


def test_an_audit_outside_the_callers_audit_scope_is_not_found(audits, client):
    audit_id = started(audits, client)
    scoped = replace(LEAD, audit_ids=frozenset({uuid4()}))
    with pytest.raises(NotFoundError):
        audits.draft_report(ctx(scoped), DraftReport(audit_id, "Summary"))


# -- findings ------------------------------------------------------------------------


def major(audit_id) -> RaiseFinding:
    return RaiseFinding(audit_id, "4", "major_nonconformity", "No scope", "Manual")


def test_a_raised_finding_is_answered_with_its_id(audits, client, store):
    audit_id = started(audits, client)
    accepted = audits.findings.raise_finding(ctx(LEAD), major(audit_id))

    finding = store.load(Audit, audit_id).findings[accepted.finding_id]
    assert (accepted.id, accepted.version) == (audit_id, 4)
    assert finding.raised_on == TODAY


def test_a_retried_raise_returns_the_same_finding(audits, client, store):
    audit_id = started(audits, client)
    keyed = replace(ctx(LEAD), idempotency=Idempotency("tenant-a", "k-1", "f-1"))
    first = audits.findings.raise_finding(keyed, major(audit_id))
    again = audits.findings.raise_finding(keyed, major(audit_id))
    assert again == first
    assert len(store.load(Audit, audit_id).findings) == 1


def test_the_audit_closes_once_its_major_is_verified_by_the_caller(
    audits, client, store
):
    audit_id = started(audits, client)
    findings = audits.findings
    finding_id = findings.raise_finding(ctx(LEAD), major(audit_id)).finding_id
    decided(audits, audit_id, outcome="refuse")
    rule = refused_rule(lambda: audits.close(ctx(LEAD), AuditAction(audit_id)))
    assert rule == "audit.unverified_major_nonconformity"

    action = FindingAction(audit_id, finding_id)
    findings.submit_response(
        ctx(CLIENT),
        SubmitResponse(audit_id, finding_id, "Cause", "Fix", "Prevent", TODAY),
    )
    with pytest.raises(PermissionDeniedError):
        findings.accept_response(ctx(CLIENT), action)
    findings.accept_response(ctx(LEAD), action)
    findings.implement_corrective_action(ctx(CLIENT), action)
    findings.verify_effectiveness(ctx(LEAD), action)
    audits.close(ctx(LEAD), AuditAction(audit_id))

    audit = store.load(Audit, audit_id)
    finding = audit.findings[finding_id]
    assert finding.status is FindingStatus.VERIFIED
    assert (finding.verified_by, finding.implemented_on) == ("lena", TODAY)
    assert audit.status is AuditStatus.CLOSED


def test_a_clause_outside_the_audited_template_version_is_refused(
    audits, client, store
):
    audit_id = started(audits, client)
    head = store.head()
    with pytest.raises(InvalidValueError) as assessed:
        audits.assess_requirement(
            ctx(LEAD), AssessRequirement(audit_id, "99.9", "conforming", None)
        )
    with pytest.raises(InvalidValueError) as raised:
        audits.findings.raise_finding(
            ctx(LEAD),
            RaiseFinding(audit_id, "99.9", "minor_nonconformity", "Gap", "Seen"),
        )
    assert assessed.value.field == raised.value.field == "clause_id"
    assert store.head() == head


# -- audit team roles ------------------------------------------------------------

OBSERVER = Principal("tenant-a", "otto", frozenset({Role.AUDITOR}))
EXPERT = Principal("tenant-a", "tess", frozenset({Role.AUDITOR}))


def with_observer(audits: AuditService, client: Client):
    audit_id = audits.plan(ctx(), client.plan()).id
    audits.assign_team(
        ctx(), AssignTeam(audit_id, "lena", ("arun",), ("tess",), ("otto",))
    )
    audits.start(ctx(LEAD), AuditAction(audit_id))
    return audit_id


def test_an_observer_follows_the_audit_but_does_not_conduct_it(audits, client, store):
    audit_id = with_observer(audits, client)
    version = store.load(Audit, audit_id).version
    with pytest.raises(PermissionDeniedError):
        audits.findings.raise_finding(ctx(OBSERVER), major(audit_id))
    with pytest.raises(PermissionDeniedError):
        audits.draft_report(ctx(OBSERVER), DraftReport(audit_id, "Summary"))
    assert store.load(Audit, audit_id).version == version


def test_a_technical_expert_on_the_team_conducts_the_audit(audits, client, store):
    audit_id = with_observer(audits, client)
    accepted = audits.findings.raise_finding(ctx(EXPERT), major(audit_id))
    assert accepted.finding_id in store.load(Audit, audit_id).findings


def test_a_manager_who_observes_still_acts_as_a_manager(audits, client, store):
    audit_id = audits.plan(ctx(), client.plan()).id
    audits.assign_team(ctx(), AssignTeam(audit_id, "lena", (), (), ("alice",)))
    audits.start(ctx(LEAD), AuditAction(audit_id))
    accepted = audits.findings.raise_finding(ctx(ADMIN), major(audit_id))
    assert accepted.finding_id in store.load(Audit, audit_id).findings
