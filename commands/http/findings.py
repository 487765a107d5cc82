"""Command routes for the findings of an audit and their corrective actions.

The router is included by :mod:`commands.http.audits`, so its paths are
``/audits/{audit_id}/findings/...``; the app includes only the audits router.
Every answer names the audit (``id``, ``version``): findings live inside it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from pydantic import Field

from commands.context import CommandContext
from commands.findings import (
    DismissFinding,
    FindingAction,
    RaiseFinding,
    RegradeFinding,
    RejectResponse,
    SubmitResponse,
)
from commands.http.deps import FindingServiceDep
from commands.http.edge import (
    ExpectedVersion,
    answer,
    context_for,
)
from commands.http.schemas import CommandAccepted, StrictBody
from commands.http.text import MultilineText, Text
from domain.access import Permission
from domain.audit_values import CLAUSE_MAX, TEXT_MAX, Grade

router = APIRouter(prefix="/{audit_id}/findings")

MAX_EVIDENCE = 100


class FindingCreate(StrictBody):
    """Body of ``POST /audits/{id}/findings``."""

    clause_id: Text = Field(min_length=1, max_length=CLAUSE_MAX, examples=["8.5.1"])
    grade: Grade = Field(examples=["minor_nonconformity"])
    description: MultilineText = Field(min_length=1, max_length=TEXT_MAX)
    objective_evidence: MultilineText = Field(min_length=1, max_length=TEXT_MAX)
    evidence_ids: list[UUID] = Field(default=[], max_length=MAX_EVIDENCE)


class FindingRegrade(StrictBody):
    """Body of ``POST .../findings/{finding_id}/regrade``."""

    grade: Grade = Field(examples=["major_nonconformity"])
    reason: MultilineText = Field(min_length=1, max_length=TEXT_MAX)


class FindingReason(StrictBody):
    """Body of ``dismiss`` and ``reject-response``."""

    reason: MultilineText = Field(
        min_length=1,
        max_length=TEXT_MAX,
        examples=["The root cause names the symptom, not the cause"],
    )


class ResponseCreate(StrictBody):
    """Body of ``POST .../findings/{finding_id}/respond``: the client's response."""

    root_cause: MultilineText = Field(min_length=1, max_length=TEXT_MAX)
    correction: MultilineText = Field(min_length=1, max_length=TEXT_MAX)
    corrective_action: MultilineText = Field(min_length=1, max_length=TEXT_MAX)
    due_date: date = Field(
        description="When the corrective action will be implemented",
        examples=["2026-06-30"],
    )


class FindingRaised(CommandAccepted):
    finding_id: UUID = Field(description="The new finding's id")


Conductor = Annotated[CommandContext, Depends(context_for(Permission.AUDIT_CONDUCT))]
Client = Annotated[CommandContext, Depends(context_for(Permission.FINDING_RESPOND))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FindingRaised)
def raise_finding(
    audit_id: UUID,
    body: FindingCreate,
    ctx: Conductor,
    svc: FindingServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> FindingRaised:
    """Raise a finding against a clause, dated today."""
    command = RaiseFinding(
        audit_id,
        body.clause_id,
        body.grade.value,
        body.description,
        body.objective_evidence,
        tuple(body.evidence_ids),
        version,
    )
    accepted = svc.raise_finding(ctx, command)
    location = f"/audits/{accepted.id}/findings/{accepted.finding_id}"
    base = answer(accepted, response, location=location)
    return FindingRaised(**base.model_dump(), finding_id=accepted.finding_id)


@router.post("/{finding_id}/regrade", response_model=CommandAccepted)
def regrade_finding(
    audit_id: UUID,
    finding_id: UUID,
    body: FindingRegrade,
    ctx: Conductor,
    svc: FindingServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Change an open finding's grade, keeping the old one in its history."""
    command = RegradeFinding(
        audit_id, finding_id, body.grade.value, body.reason, version
    )
    return answer(svc.regrade_finding(ctx, command), response)


@router.post("/{finding_id}/dismiss", response_model=CommandAccepted)
def dismiss_finding(
    audit_id: UUID,
    finding_id: UUID,
    body: FindingReason,
    ctx: Conductor,
    svc: FindingServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Dismiss an open finding raised in error."""
    command = DismissFinding(audit_id, finding_id, body.reason, version)
    return answer(svc.dismiss_finding(ctx, command), response)


@router.post("/{finding_id}/respond", response_model=CommandAccepted)
def submit_response(
    audit_id: UUID,
    finding_id: UUID,
    body: ResponseCreate,
    ctx: Client,
    svc: FindingServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Record the client's response to a nonconformity."""
    command = SubmitResponse(
        audit_id,
        finding_id,
        body.root_cause,
        body.correction,
        body.corrective_action,
        body.due_date,
        version,
    )
    return answer(svc.submit_response(ctx, command), response)


@router.post("/{finding_id}/accept-response", response_model=CommandAccepted)
def accept_response(
    audit_id: UUID,
    finding_id: UUID,
    ctx: Conductor,
    svc: FindingServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Accept the client's submitted response."""
    command = FindingAction(audit_id, finding_id, version)
    return answer(svc.accept_response(ctx, command), response)


@router.post("/{finding_id}/reject-response", response_model=CommandAccepted)
def reject_response(
    audit_id: UUID,
    finding_id: UUID,
    body: FindingReason,
    ctx: Conductor,
    svc: FindingServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Reject the client's submitted response; a new one is then awaited."""
    command = RejectResponse(audit_id, finding_id, body.reason, version)
    return answer(svc.reject_response(ctx, command), response)


@router.post("/{finding_id}/implement", response_model=CommandAccepted)
def implement_corrective_action(
    audit_id: UUID,
    finding_id: UUID,
    ctx: Client,
    svc: FindingServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Record that the accepted corrective action was implemented today."""
    command = FindingAction(audit_id, finding_id, version)
    return answer(svc.implement_corrective_action(ctx, command), response)


@router.post("/{finding_id}/verify", response_model=CommandAccepted)
def verify_effectiveness(
    audit_id: UUID,
    finding_id: UUID,
    ctx: Conductor,
    svc: FindingServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Record that the caller verified the corrective action effective today."""
    command = FindingAction(audit_id, finding_id, version)
    return answer(svc.verify_effectiveness(ctx, command), response)


@router.post("/{finding_id}/close", response_model=CommandAccepted)
def close_finding(
    audit_id: UUID,
    finding_id: UUID,
    ctx: Conductor,
    svc: FindingServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Close a finding (a nonconformity once verified effective)."""
    command = FindingAction(audit_id, finding_id, version)
    return answer(svc.close_finding(ctx, command), response)
