"""Wire models of audits (rows of the ``audits`` projection's ``audits`` and
``assessments`` tables) and the audit detail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.audit_values import AuditStatus, AuditType, ClauseResult, DecisionOutcome
from read_api.schemas.as_of import AsOfPublic, as_of_field
from read_api.schemas.findings import (
    EVIDENCE_EXAMPLE,
    FINDING_EXAMPLE,
    EvidencePublic,
    FindingPublic,
)
from read_api.schemas.rows import Page, Position, Version, examples, page_examples

AUDIT_EXAMPLE = {
    "id": "0f7c2b9a-6d1e-4c3b-8a5f-9e2d1c0b7a64",
    "organization_id": "8e1d4c7b-2a3f-4e5d-9c6b-7a8f9e0d1c2b",
    "site_ids": ["2c9e7a1b-5d3f-4a8e-b6c2-0d1e9f8a7b6c"],
    "audit_type": "stage_2",
    "status": "in_progress",
    "standard_template_id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
    "standard_version": 1,
    "standard_name": "ISO 9001",
    "standard_edition": "2015",
    "planned_start": "2026-03-02",
    "planned_end": "2026-03-04",
    "scope_statement": "Design and manufacture of industrial pumps",
    "planned_by": "pam",
    "started_on": "2026-03-02",
    "lead_auditor": "lena",
    "team": ["arun", "lena"],
    "team_roles": {
        "lead_auditor": "lena",
        "auditors": ["arun"],
        "technical_experts": [],
        "observers": [],
    },
    "report_summary": None,
    "report_drafted_at": None,
    "technical_reviewer": None,
    "submitted_at": None,
    "review_outcome": None,
    "review_comments": None,
    "reviewed_at": None,
    "reviews": [],
    "decision_outcome": None,
    "decision_reasons": None,
    "decided_by": None,
    "decided_on": None,
    "decision_basis": None,
    "past_decisions": [],
    "closed_at": None,
    "cancellation_reason": None,
    "cancelled_at": None,
    "reopenings": [],
    "findings_major": 0,
    "findings_minor": 1,
    "findings_observation": 0,
    "findings_ofi": 0,
    "findings_open_majors": 0,
    "findings_noted": 0,
    "findings_awaiting_response": 0,
    "findings_response_submitted": 1,
    "findings_response_accepted": 0,
    "findings_action_implemented": 0,
    "findings_verified": 0,
    "findings_closed": 0,
    "findings_dismissed": 0,
    "created_at": "2026-02-10T08:30:00.000000+00:00",
    "content_version": 7,
    "version": 9,
    "position": 4431,
    "updated_at": "2026-03-05T14:03:10.553112+00:00",
}

ASSESSMENT_EXAMPLE = {
    "audit_id": "0f7c2b9a-6d1e-4c3b-8a5f-9e2d1c0b7a64",
    "clause_id": "7.1.5",
    "result": "nonconforming",
    "notes": "See the finding on calibration records",
    "evidence_ids": ["5b0c7d2e-93f4-4f8e-9a57-2f1f0e6d3c11"],
    "assessed_by": "lena",
    "assessed_at": "2026-03-02T10:39:51.000000+00:00",
    "version": 5,
    "position": 4405,
}


class TeamRolesPublic(BaseModel):
    """Who is on the audit team, by role."""

    lead_auditor: str | None
    auditors: list[str]
    technical_experts: list[str]
    observers: list[str]


class ReviewPublic(BaseModel):
    """One technical review's outcome."""

    outcome: Literal["approved", "returned_for_rework"]
    comments: str | None
    reviewer: str | None
    by: str
    at: datetime


class PastDecisionPublic(BaseModel):
    """A decision taken before the audit was reopened."""

    outcome: DecisionOutcome
    reasons: str | None
    decided_by: str | None
    decided_on: date
    closed_at: datetime | None


class DecisionBasisPublic(BaseModel):
    """What the certification decision was taken on."""

    audit_version: int = Field(description="The audit's version the decider saw")
    template_version: int = Field(
        description="The standard template's version the audit used"
    )
    finding_versions: dict[str, int] = Field(
        description="Each finding's version when the decision was taken, by id"
    )
    position: int | None = Field(
        None,
        description="The event-store position of the decision: a version of"
        " the standard template published after it makes the decision stale"
        " (null: projected before this was kept)",
    )


class DecisionChangePublic(BaseModel):
    """One thing the decision rests on that moved after it was taken."""

    kind: Literal["audit", "template", "finding"]
    id: UUID = Field(description="The audit, standard template or finding")
    from_version: int | None = Field(
        description="Its version the decision recorded (null: a finding raised"
        " after the decision)"
    )
    to_version: int = Field(description="Its version now (or as of the moment)")


class DecisionPublic(BaseModel):
    """The audit's current certification decision and whether it is stale."""

    outcome: DecisionOutcome
    reasons: str
    decided_by: str
    decided_on: date
    basis: DecisionBasisPublic | None = Field(
        description="What it was taken on (null: recorded before this was kept)"
    )
    stale: bool | None = Field(
        description="Whether the audit, its standard template or a finding"
        " moved after the decision (null: its basis is unknown)"
    )
    changes: list[DecisionChangePublic] = Field(
        description="What moved, from which version to which"
    )


class ReopeningPublic(BaseModel):
    """One reopening of the closed audit."""

    reason: str
    by: str
    at: datetime


class AuditPublic(BaseModel):
    """An audit as listed (``GET /audits``), with finding counts by grade
    (dismissed ones excluded) and by status."""

    model_config = ConfigDict(json_schema_extra=examples(AUDIT_EXAMPLE))

    id: UUID
    organization_id: UUID
    site_ids: list[UUID]
    audit_type: AuditType
    status: AuditStatus
    standard_template_id: UUID
    standard_version: int
    standard_name: str
    standard_edition: str
    planned_start: date
    planned_end: date
    scope_statement: str
    planned_by: str
    started_on: date | None
    lead_auditor: str | None
    team: list[str] = Field(description="Everyone on the team, lead included")
    team_roles: TeamRolesPublic
    report_summary: str | None
    report_drafted_at: datetime | None
    technical_reviewer: str | None
    submitted_at: datetime | None
    review_outcome: Literal["approved", "returned_for_rework"] | None
    review_comments: str | None
    reviewed_at: datetime | None
    reviews: list[ReviewPublic] = Field(description="Every review, oldest first")
    decision_outcome: DecisionOutcome | None
    decision_reasons: str | None
    decided_by: str | None
    decided_on: date | None
    decision_basis: DecisionBasisPublic | None = Field(
        description="What the current decision was taken on"
    )
    past_decisions: list[PastDecisionPublic]
    closed_at: datetime | None
    cancellation_reason: str | None
    cancelled_at: datetime | None
    reopenings: list[ReopeningPublic]
    findings_major: int
    findings_minor: int
    findings_observation: int
    findings_ofi: int = Field(description="Opportunities for improvement")
    findings_open_majors: int = Field(
        description="Major nonconformities not verified, closed nor dismissed"
    )
    findings_noted: int = Field(
        description="Observations and opportunities for improvement that are"
        " open: nothing is owed by the client, so they never count as awaiting"
        " a response nor as overdue"
    )
    findings_awaiting_response: int = Field(
        description="Nonconformities awaiting the client's response"
    )
    findings_response_submitted: int
    findings_response_accepted: int
    findings_action_implemented: int
    findings_verified: int
    findings_closed: int
    findings_dismissed: int
    created_at: datetime
    content_version: int = Field(
        description="The audit's version after its latest change to the audit"
        " itself (finding changes, the decision and closing do not count)"
    )
    version: Version
    position: Position
    updated_at: datetime


class AuditPage(Page[AuditPublic]):
    model_config = ConfigDict(json_schema_extra=page_examples(AUDIT_EXAMPLE))


class AssessmentPublic(BaseModel):
    """The latest result recorded for one clause of the audit."""

    model_config = ConfigDict(json_schema_extra=examples(ASSESSMENT_EXAMPLE))

    audit_id: UUID
    clause_id: str
    result: ClauseResult
    notes: str | None
    evidence_ids: list[UUID]
    assessed_by: str
    assessed_at: datetime
    version: Version
    position: Position


class AuditDetail(AuditPublic):
    """One audit with its clause-by-clause assessment, findings and evidence."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                **AUDIT_EXAMPLE,
                "decision": None,
                "assessments": [ASSESSMENT_EXAMPLE],
                "findings": [FINDING_EXAMPLE],
                "evidence": [EVIDENCE_EXAMPLE],
            }
        )
    )

    decision: DecisionPublic | None = Field(
        description="The current decision, with ``stale`` and what changed"
        " since it was taken"
    )
    assessments: list[AssessmentPublic] = Field(description="By clause")
    findings: list[FindingPublic]
    evidence: list[EvidencePublic]
    as_of: AsOfPublic | None = as_of_field()
