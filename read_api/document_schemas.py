"""Wire models of the document queries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class DocumentPublic(BaseModel):
    """A requested document: its status, and once ready its file's facts."""

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

    items: list[DocumentPublic]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null on the last"
    )
