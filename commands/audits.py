"""Commands on audits (their findings' commands are in :mod:`commands.findings`).

Planning loads the organization and the standard template (tenant-checked)
and, for a stage 2 or surveillance audit, the organization's earlier audits
or certificates for the standard, found through the command-side index; the
rules are those of :mod:`domain.audit_prerequisites`. Every other command
changes one audit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from commands.audit_scope import (
    accept_audit,
    with_clause_check,
)
from commands.context import Accepted, CommandContext
from commands.findings import FindingService
from commands.handling import AggregateHandler
from commands.ports import EventStore, IndexEntry
from domain.access import Permission
from domain.audit import Audit
from domain.audit_prerequisites import check_sites, plan_audit
from domain.certificate import Certificate
from domain.errors import NotFoundError
from domain.organization import Organization
from domain.standard_template import StandardTemplate

A = TypeVar("A", bound=Aggregate)

AUDIT_INDEX = "audit"
CERTIFICATE_INDEX = "certificate"


@dataclass(frozen=True)
class PlanAudit:
    organization_id: UUID
    site_ids: tuple[UUID, ...]
    standard_template_id: UUID
    standard_version: int
    audit_type: str
    planned_start: date
    planned_end: date
    scope_statement: str


@dataclass(frozen=True)
class ChangeAuditDetails:
    """New planned details; a field left ``None`` keeps its current value."""

    audit_id: UUID
    planned_start: date | None = None
    planned_end: date | None = None
    scope_statement: str | None = None
    site_ids: tuple[UUID, ...] | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class AssignTeam:
    audit_id: UUID
    lead_auditor: str | None
    auditors: tuple[str, ...] = ()
    technical_experts: tuple[str, ...] = ()
    observers: tuple[str, ...] = ()
    expected_version: int | None = None


@dataclass(frozen=True)
class AuditAction:
    """A command that names only the audit (start, close)."""

    audit_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class CancelAudit:
    audit_id: UUID
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class ReopenAudit:
    audit_id: UUID
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class AssessRequirement:
    audit_id: UUID
    clause_id: str
    result: str
    notes: str | None = None
    evidence_ids: tuple[UUID, ...] = ()
    expected_version: int | None = None


@dataclass(frozen=True)
class DraftReport:
    audit_id: UUID
    summary: str
    expected_version: int | None = None


@dataclass(frozen=True)
class SubmitForReview:
    audit_id: UUID
    technical_reviewer: str
    expected_version: int | None = None


@dataclass(frozen=True)
class ApproveReview:
    audit_id: UUID
    comments: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class ReturnForRework:
    audit_id: UUID
    comments: str
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordDecision:
    """The caller's certification decision (the caller is the decider)."""

    audit_id: UUID
    outcome: str
    reasons: str
    expected_version: int | None = None


class AuditService:
    """Application service whose methods are the audit commands.

    Attributes:
        findings: The commands on the audits' findings, on the same store.
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._handler = AggregateHandler(store)
        self.findings = FindingService(self._handler)

    # -- planning ----------------------------------------------------------

    def plan(self, ctx: CommandContext, cmd: PlanAudit) -> Accepted:
        """Plan an audit of an organization's sites against a published
        standard template version."""
        return self._handler.create(
            ctx,
            Permission.AUDIT_PLAN,
            lambda: self._plan(ctx, cmd),
            index=lambda audit: [
                IndexEntry(
                    AUDIT_INDEX,
                    audit.id,
                    audit.tenant_id,
                    audit.organization_id,
                    audit.standard_name,
                )
            ],
        )

    def change_details(self, ctx: CommandContext, cmd: ChangeAuditDetails) -> Accepted:
        """Change a planned audit's dates, scope statement or sites."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_PLAN,
            cmd,
            lambda audit: self._change_details(ctx, cmd, audit),
        )

    def assign_team(self, ctx: CommandContext, cmd: AssignTeam) -> Accepted:
        """Assign the audit team, replacing the current one."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_PLAN,
            cmd,
            lambda audit: audit.assign_team(
                ctx.meta(),
                cmd.lead_auditor,
                cmd.auditors,
                cmd.technical_experts,
                cmd.observers,
            ),
        )

    def start(self, ctx: CommandContext, cmd: AuditAction) -> Accepted:
        """Start the audit today."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            lambda audit: audit.start(ctx.meta(), ctx.today),
        )

    def cancel(self, ctx: CommandContext, cmd: CancelAudit) -> Accepted:
        """Cancel an audit that has not started."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_PLAN,
            cmd,
            lambda audit: audit.cancel(ctx.meta(), cmd.reason),
        )

    # -- audit work, report, review and decision ---------------------------

    def assess_requirement(
        self, ctx: CommandContext, cmd: AssessRequirement
    ) -> Accepted:
        """Record (or replace) the result for one clause of the standard."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            with_clause_check(
                self._handler,
                ctx,
                cmd.clause_id,
                lambda audit: audit.assess_requirement(
                    ctx.meta(), cmd.clause_id, cmd.result, cmd.notes, cmd.evidence_ids
                ),
            ),
        )

    def draft_report(self, ctx: CommandContext, cmd: DraftReport) -> Accepted:
        """Draft (or redraft) the audit report."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            lambda audit: audit.draft_report(ctx.meta(), cmd.summary),
        )

    def submit_for_review(self, ctx: CommandContext, cmd: SubmitForReview) -> Accepted:
        """Submit the drafted report to a technical reviewer."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            lambda audit: audit.submit_for_review(ctx.meta(), cmd.technical_reviewer),
        )

    def approve_review(self, ctx: CommandContext, cmd: ApproveReview) -> Accepted:
        """Approve the audit under technical review."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_REVIEW,
            cmd,
            lambda audit: audit.approve_review(ctx.meta(), cmd.comments),
        )

    def return_for_rework(self, ctx: CommandContext, cmd: ReturnForRework) -> Accepted:
        """Return the audit under review to its team."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_REVIEW,
            cmd,
            lambda audit: audit.return_for_rework(ctx.meta(), cmd.comments),
        )

    def record_decision(self, ctx: CommandContext, cmd: RecordDecision) -> Accepted:
        """Record the caller's certification decision, dated today."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_DECIDE,
            cmd,
            lambda audit: audit.record_decision(
                ctx.meta(), ctx.principal.actor_id, cmd.outcome, cmd.reasons, ctx.today
            ),
        )

    def close(self, ctx: CommandContext, cmd: AuditAction) -> Accepted:
        """Close the decided audit."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            lambda audit: audit.close(ctx.meta()),
        )

    def reopen(self, ctx: CommandContext, cmd: ReopenAudit) -> Accepted:
        """Reopen a closed audit; review and decision are taken again."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_REOPEN,
            cmd,
            lambda audit: audit.reopen(ctx.meta(), cmd.reason),
        )

    # -- internals ---------------------------------------------------------

    def _plan(self, ctx: CommandContext, cmd: PlanAudit) -> Audit:
        organization = self._organization(ctx, cmd.organization_id)
        template = self._handler.load(ctx, StandardTemplate, cmd.standard_template_id)
        name = template.standard_name
        return plan_audit(
            ctx.meta(),
            organization=organization,
            template=template,
            standard_version=cmd.standard_version,
            site_ids=cmd.site_ids,
            audit_type=cmd.audit_type,
            planned_start=cmd.planned_start,
            planned_end=cmd.planned_end,
            scope_statement=cmd.scope_statement,
            earlier_audits=self._indexed(ctx, Audit, AUDIT_INDEX, organization, name),
            certificates=self._indexed(
                ctx, Certificate, CERTIFICATE_INDEX, organization, name
            ),
            on=ctx.today,
        )

    def _change_details(
        self, ctx: CommandContext, cmd: ChangeAuditDetails, audit: Audit
    ) -> None:
        if cmd.site_ids is not None:
            organization = self._organization(ctx, audit.organization_id)
            check_sites(organization, cmd.site_ids)
        audit.change_details(
            ctx.meta(),
            planned_start=cmd.planned_start or audit.planned_start,
            planned_end=cmd.planned_end or audit.planned_end,
            scope_statement=(
                audit.scope_statement
                if cmd.scope_statement is None
                else cmd.scope_statement
            ),
            site_ids=audit.site_ids if cmd.site_ids is None else cmd.site_ids,
        )

    def _organization(self, ctx: CommandContext, organization_id: UUID) -> Organization:
        organization = self._handler.load(ctx, Organization, organization_id)
        if not ctx.principal.may_see_organization(organization.id):
            raise NotFoundError("organization", organization_id)
        return organization

    def _indexed(
        self,
        ctx: CommandContext,
        kind: type[A],
        index_kind: str,
        organization: Organization,
        standard_name: str,
    ) -> Iterator[A]:
        """The aggregates indexed under the organization and standard, loaded
        lazily (the index only finds ids; the domain checks what they are)."""
        found = self._store.find(
            ctx.principal.tenant_id, index_kind, organization.id, standard_name
        )
        for aggregate_id in found:
            aggregate = self._store.load(kind, aggregate_id)
            if aggregate is not None:
                yield aggregate
