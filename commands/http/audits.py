"""Command routes for audits; their findings' routes are in
:mod:`commands.http.findings`, included here under ``/audits/{id}/findings``."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from pydantic import Field

from commands.audits import (
    ApproveReview,
    AssessRequirement,
    AssignTeam,
    AuditAction,
    CancelAudit,
    ChangeAuditDetails,
    DraftReport,
    PlanAudit,
    RecordDecision,
    ReopenAudit,
    ReturnForRework,
    SubmitForReview,
)
from commands.context import CommandContext
from commands.http import findings
from commands.http.deps import AuditServiceDep
from commands.http.edge import (
    ExpectedVersion,
    answer,
    context_for,
)
from commands.http.schemas import CommandAccepted, StrictBody
from commands.http.text import MultilineText, Text
from domain.access import Permission
from domain.audit_values import (
    ACTOR_MAX,
    CLAUSE_MAX,
    REPORT_MAX,
    TEXT_MAX,
    AuditType,
    ClauseResult,
    DecisionOutcome,
)

router = APIRouter(prefix="/audits", tags=["audits"])

MAX_SITES = 100
MAX_TEAM = 50
MAX_EVIDENCE = 100
Actor = Annotated[Text, Field(min_length=1, max_length=ACTOR_MAX)]


class AuditCreate(StrictBody):
    """Body of ``POST /audits``."""

    organization_id: UUID
    site_ids: list[UUID] = Field(min_length=1, max_length=MAX_SITES)
    standard_template_id: UUID
    standard_version: int = Field(ge=1, lt=2**31, examples=[1])
    audit_type: AuditType = Field(examples=["stage_1"])
    planned_start: date = Field(examples=["2026-03-02"])
    planned_end: date = Field(examples=["2026-03-04"])
    scope_statement: MultilineText = Field(
        min_length=1,
        max_length=TEXT_MAX,
        examples=["Design and manufacture of industrial valves"],
    )


class AuditDetailsChange(StrictBody):
    """Body of ``PATCH /audits/{id}``: the fields to change; others keep
    their value."""

    planned_start: date | None = Field(default=None, examples=["2026-12-02"])
    planned_end: date | None = Field(default=None, examples=["2026-12-04"])
    scope_statement: MultilineText | None = Field(
        default=None, min_length=1, max_length=TEXT_MAX
    )
    site_ids: list[UUID] | None = Field(
        default=None, min_length=1, max_length=MAX_SITES
    )


class TeamAssignment(StrictBody):
    """Body of ``POST /audits/{id}/assign-team``: the whole team, by actor id."""

    lead_auditor: Actor | None = Field(default=None, examples=["lena"])
    auditors: list[Actor] = Field(default=[], max_length=MAX_TEAM, examples=[["ali"]])
    technical_experts: list[Actor] = Field(default=[], max_length=MAX_TEAM)
    observers: list[Actor] = Field(default=[], max_length=MAX_TEAM)


class Reason(StrictBody):
    """Body of ``cancel`` and ``reopen``."""

    reason: MultilineText = Field(
        min_length=1, max_length=TEXT_MAX, examples=["Client postponed the visit"]
    )


class RequirementAssessment(StrictBody):
    """Body of ``POST /audits/{id}/assess``."""

    clause_id: Text = Field(min_length=1, max_length=CLAUSE_MAX, examples=["8.5.1"])
    result: ClauseResult = Field(examples=["conforming"])
    notes: MultilineText | None = Field(default=None, max_length=TEXT_MAX)
    evidence_ids: list[UUID] = Field(default=[], max_length=MAX_EVIDENCE)


class ReportDraft(StrictBody):
    """Body of ``POST /audits/{id}/report``."""

    summary: MultilineText = Field(
        min_length=1,
        max_length=REPORT_MAX,
        examples=["The management system conforms; one minor nonconformity"],
    )


class ReviewSubmission(StrictBody):
    """Body of ``POST /audits/{id}/submit``."""

    technical_reviewer: Actor = Field(examples=["rita"])


class ReviewApproval(StrictBody):
    """Body of ``POST /audits/{id}/approve-review`` (optional)."""

    comments: MultilineText | None = Field(
        default=None, max_length=TEXT_MAX, examples=["Well evidenced"]
    )


class ReworkRequest(StrictBody):
    """Body of ``POST /audits/{id}/return-for-rework``."""

    comments: MultilineText = Field(
        min_length=1,
        max_length=TEXT_MAX,
        examples=["Clause 8.5: the sampled batch records are not referenced"],
    )


class DecisionCreate(StrictBody):
    """Body of ``POST /audits/{id}/decide``; the caller is the decider."""

    outcome: DecisionOutcome = Field(examples=["grant"])
    reasons: MultilineText = Field(min_length=1, max_length=TEXT_MAX)


Planner = Annotated[CommandContext, Depends(context_for(Permission.AUDIT_PLAN))]
Conductor = Annotated[CommandContext, Depends(context_for(Permission.AUDIT_CONDUCT))]
Reviewer = Annotated[CommandContext, Depends(context_for(Permission.AUDIT_REVIEW))]
Decider = Annotated[CommandContext, Depends(context_for(Permission.AUDIT_DECIDE))]
Reopener = Annotated[CommandContext, Depends(context_for(Permission.AUDIT_REOPEN))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CommandAccepted)
def plan_audit(
    body: AuditCreate, ctx: Planner, svc: AuditServiceDep, response: Response
) -> CommandAccepted:
    """Plan an audit of an organization's sites against a published standard
    template version."""
    command = PlanAudit(
        body.organization_id,
        tuple(body.site_ids),
        body.standard_template_id,
        body.standard_version,
        body.audit_type.value,
        body.planned_start,
        body.planned_end,
        body.scope_statement,
    )
    accepted = svc.plan(ctx, command)
    return answer(accepted, response, location=f"/audits/{accepted.id}")


@router.patch("/{audit_id}", response_model=CommandAccepted)
def change_details(
    audit_id: UUID,
    body: AuditDetailsChange,
    ctx: Planner,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Change a planned audit's dates, scope statement or sites."""
    command = ChangeAuditDetails(
        audit_id,
        body.planned_start,
        body.planned_end,
        body.scope_statement,
        None if body.site_ids is None else tuple(body.site_ids),
        version,
    )
    return answer(svc.change_details(ctx, command), response)


@router.post("/{audit_id}/assign-team", response_model=CommandAccepted)
def assign_team(
    audit_id: UUID,
    body: TeamAssignment,
    ctx: Planner,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Assign the whole audit team, replacing the current one."""
    command = AssignTeam(
        audit_id,
        body.lead_auditor,
        tuple(body.auditors),
        tuple(body.technical_experts),
        tuple(body.observers),
        version,
    )
    return answer(svc.assign_team(ctx, command), response)


@router.post("/{audit_id}/start", response_model=CommandAccepted)
def start(
    audit_id: UUID,
    ctx: Conductor,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Start the planned audit today (it needs a lead auditor)."""
    command = AuditAction(audit_id, version)
    return answer(svc.start(ctx, command), response)


@router.post("/{audit_id}/cancel", response_model=CommandAccepted)
def cancel(
    audit_id: UUID,
    body: Reason,
    ctx: Planner,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Cancel an audit that has not started."""
    command = CancelAudit(audit_id, body.reason, version)
    return answer(svc.cancel(ctx, command), response)


@router.post("/{audit_id}/assess", response_model=CommandAccepted)
def assess_requirement(
    audit_id: UUID,
    body: RequirementAssessment,
    ctx: Conductor,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Record (or replace) the result for one clause of the standard."""
    command = AssessRequirement(
        audit_id,
        body.clause_id,
        body.result.value,
        body.notes,
        tuple(body.evidence_ids),
        version,
    )
    return answer(svc.assess_requirement(ctx, command), response)


@router.post("/{audit_id}/report", response_model=CommandAccepted)
def draft_report(
    audit_id: UUID,
    body: ReportDraft,
    ctx: Conductor,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Draft (or redraft) the audit report."""
    command = DraftReport(audit_id, body.summary, version)
    return answer(svc.draft_report(ctx, command), response)


@router.post("/{audit_id}/submit", response_model=CommandAccepted)
def submit_for_review(
    audit_id: UUID,
    body: ReviewSubmission,
    ctx: Conductor,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Submit the drafted report to a technical reviewer (not on the team)."""
    command = SubmitForReview(audit_id, body.technical_reviewer, version)
    return answer(svc.submit_for_review(ctx, command), response)


@router.post("/{audit_id}/approve-review", response_model=CommandAccepted)
def approve_review(
    audit_id: UUID,
    ctx: Reviewer,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
    body: ReviewApproval | None = None,
) -> CommandAccepted:
    """Approve the audit under technical review."""
    comments = None if body is None else body.comments
    command = ApproveReview(audit_id, comments, version)
    return answer(svc.approve_review(ctx, command), response)


@router.post("/{audit_id}/return-for-rework", response_model=CommandAccepted)
def return_for_rework(
    audit_id: UUID,
    body: ReworkRequest,
    ctx: Reviewer,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Send the audit under review back to its team."""
    command = ReturnForRework(audit_id, body.comments, version)
    return answer(svc.return_for_rework(ctx, command), response)


@router.post("/{audit_id}/decide", response_model=CommandAccepted)
def record_decision(
    audit_id: UUID,
    body: DecisionCreate,
    ctx: Decider,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Record the caller's certification decision (the caller must not have
    taken part in the audit)."""
    command = RecordDecision(audit_id, body.outcome.value, body.reasons, version)
    return answer(svc.record_decision(ctx, command), response)


@router.post("/{audit_id}/close", response_model=CommandAccepted)
def close(
    audit_id: UUID,
    ctx: Conductor,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Close the decided audit (refused while a major is not verified)."""
    command = AuditAction(audit_id, version)
    return answer(svc.close(ctx, command), response)


@router.post("/{audit_id}/reopen", response_model=CommandAccepted)
def reopen(
    audit_id: UUID,
    body: Reason,
    ctx: Reopener,
    svc: AuditServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Reopen a closed audit; review and decision are taken again."""
    command = ReopenAudit(audit_id, body.reason, version)
    return answer(svc.reopen(ctx, command), response)


router.include_router(findings.router)
