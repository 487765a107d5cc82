"""Wire models of the document queries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from read_api.schemas.rows import examples, page_examples

DOCUMENT_EXAMPLE = {
    "id": "6f1e2d3c-4b5a-4697-8877-665544332211",
    "kind": "audit_report",
    "format": "pdf",
    "status": "ready",
    "failure_code": None,
    "failure_detail": None,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "size": 48213,
    "page_count": 7,
    "media_type": "application/pdf",
    "file_name": "ISO-9001-stage-2-Nordic-Valves-2026-12-04.pdf",
    "template_id": "0b7d4c8e-5a61-4f0e-8d3c-2e9f1a6b7c02",
    "template_version": 2,
    "organization_id": "8e1d4c7b-2a3f-4e5d-9c6b-7a8f9e0d1c2b",
    "audit_id": "0f7c2b9a-6d1e-4c3b-8a5f-9e2d1c0b7a64",
    "audit_version": 31,
    "certificate_id": None,
    "certificate_version": None,
    "draft": False,
    "requested_at": "2026-12-04T09:12:44.120394+00:00",
    "requested_by": "lena",
    "rendered_at": "2026-12-04T09:12:45.004211+00:00",
    "updated_at": "2026-12-04T09:12:45.004211+00:00",
    "version": 2,
}


class DocumentPublic(BaseModel):
    """A requested document: its status, and once ready its file's facts."""

    model_config = ConfigDict(json_schema_extra=examples(DOCUMENT_EXAMPLE))

    id: UUID
    kind: Literal["audit_report", "certificate"]
    format: Literal["pdf", "docx"]
    status: Literal["pending", "ready", "failed"]
    failure_code: str | None = Field(
        description="Why rendering failed for good (status failed)",
        examples=["template_wrong_kind"],
    )
    failure_detail: str | None
    sha256: str | None = Field(
        description="SHA-256 of the file (status ready); the content's ETag"
    )
    size: int | None = Field(description="Bytes of the file")
    page_count: int | None = Field(description="Pages of a PDF")
    media_type: str | None = Field(examples=["application/pdf"])
    file_name: str | None = Field(
        examples=["ISO-9001-stage-2-Nordic-Valves-2026-12-04.pdf"]
    )
    template_id: UUID
    template_version: int = Field(description="The layout version rendered")
    organization_id: UUID
    audit_id: UUID = Field(
        description="The audit reported on, or the one the certificate rests on"
    )
    audit_version: int | None = Field(
        description="The audit version reported on (reports only)"
    )
    certificate_id: UUID | None
    certificate_version: int | None = Field(
        description="The certificate version rendered (certificates only)"
    )
    draft: bool = Field(
        description="Requested before the audit was decided: marked DRAFT"
    )
    requested_at: datetime
    requested_by: str
    rendered_at: datetime | None
    updated_at: datetime
    version: int = Field(description="The document's version; its ETag")


class DocumentPage(BaseModel):
    """One page of ``GET /documents``."""

    model_config = ConfigDict(json_schema_extra=page_examples(DOCUMENT_EXAMPLE))

    items: list[DocumentPublic]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null on the last"
    )
