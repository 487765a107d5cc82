"""Wire models of findings and evidence files (rows of the ``audits``
projection's ``findings`` and ``evidence`` tables)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.audit_values import FindingStatus, Grade
from read_api.schemas.rows import Page, Position, Version, examples, page_examples

EVIDENCE_EXAMPLE = {
    "id": "5b0c7d2e-93f4-4f8e-9a57-2f1f0e6d3c11",
    "audit_id": "0f7c2b9a-6d1e-4c3b-8a5f-9e2d1c0b7a64",
    "finding_id": "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
    "organization_id": "8e1d4c7b-2a3f-4e5d-9c6b-7a8f9e0d1c2b",
    "file_name": "calibration-log.pdf",
    "size": 182734,
    "media_type": "application/pdf",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uploaded_by": "arun",
    "uploaded_at": "2026-03-03T09:12:44.120394+00:00",
    "version": 1,
    "position": 4412,
}

FINDING_EXAMPLE = {
    "id": "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
    "audit_id": "0f7c2b9a-6d1e-4c3b-8a5f-9e2d1c0b7a64",
    "organization_id": "8e1d4c7b-2a3f-4e5d-9c6b-7a8f9e0d1c2b",
    "clause_id": "7.1.5",
    "grade": "minor_nonconformity",
    "status": "response_submitted",
    "open": True,
    "action_due": True,
    "due_date": "2026-04-15",
    "description": "Calibration records of two gauges are missing",
    "objective_evidence": "Gauges G-14 and G-22 have no record for 2025",
    "evidence_ids": ["5b0c7d2e-93f4-4f8e-9a57-2f1f0e6d3c11"],
    "raised_on": "2026-03-02",
    "raised_by": "lena",
    "response": {
        "root_cause": "Recall list not updated",
        "correction": "Both gauges calibrated",
        "corrective_action": "Monthly check of the recall list",
        "due_date": "2026-04-15",
        "by": "client-qm",
        "at": "2026-03-05T14:03:10.553112+00:00",
    },
    "rejection_reason": None,
    "implemented_on": None,
    "verified_by": None,
    "verified_on": None,
    "dismissal_reason": None,
    "regrades": [],
    "closed_at": None,
    "raised_at": "2026-03-02T10:41:07.908311+00:00",
    "version": 9,
    "position": 4431,
    "updated_at": "2026-03-05T14:03:10.553112+00:00",
    "overdue": False,
}


class EvidencePublic(BaseModel):
    """An uploaded evidence file's record; its bytes are at ``…/content``."""

    model_config = ConfigDict(json_schema_extra=examples(EVIDENCE_EXAMPLE))

    id: UUID
    audit_id: UUID
    finding_id: UUID | None = Field(description="The finding it supports, if any")
    organization_id: UUID | None = Field(
        description="The audit's organization (null until the audit's row exists)"
    )
    file_name: str
    size: int = Field(description="Bytes")
    media_type: str = Field(description="Sniffed from the content at upload")
    sha256: str = Field(description="Hex digest of the content (its ETag)")
    uploaded_by: str
    uploaded_at: datetime
    version: Version
    position: Position


class FindingResponsePublic(BaseModel):
    """The client's latest response to a nonconformity."""

    root_cause: str
    correction: str
    corrective_action: str
    due_date: date = Field(description="When the corrective action will be done")
    by: str
    at: datetime


class RegradePublic(BaseModel):
    """One change of a finding's grade."""

    model_config = ConfigDict(populate_by_name=True)

    from_: Grade = Field(alias="from")
    to: Grade
    reason: str
    by: str
    at: datetime


class FindingPublic(BaseModel):
    """A finding of the register (``GET /findings``)."""

    model_config = ConfigDict(json_schema_extra=examples(FINDING_EXAMPLE))

    id: UUID
    audit_id: UUID
    organization_id: UUID
    clause_id: str
    grade: Grade
    status: FindingStatus
    open: bool = Field(description="Neither closed nor dismissed")
    action_due: bool = Field(
        description="A nonconformity whose corrective action is still to do"
    )
    due_date: date | None = Field(
        description="The date the client's latest response promised"
    )
    description: str
    objective_evidence: str
    evidence_ids: list[UUID]
    raised_on: date
    raised_by: str
    response: FindingResponsePublic | None
    rejection_reason: str | None
    implemented_on: date | None
    verified_by: str | None
    verified_on: date | None
    dismissal_reason: str | None
    regrades: list[RegradePublic] = Field(description="Grade changes, oldest first")
    closed_at: datetime | None
    raised_at: datetime
    version: Version
    position: Position
    updated_at: datetime
    overdue: bool = Field(
        description="Action due and due_date before today in the tenant's time zone"
    )


class FindingPage(Page[FindingPublic]):
    model_config = ConfigDict(json_schema_extra=page_examples(FINDING_EXAMPLE))


class FindingDetail(FindingPublic):
    """One finding with its evidence files."""

    model_config = ConfigDict(
        json_schema_extra=examples({**FINDING_EXAMPLE, "evidence": [EVIDENCE_EXAMPLE]})
    )

    evidence: list[EvidencePublic]
