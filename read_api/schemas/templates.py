"""Wire models of standard and document templates with their versions (rows
of the ``templates`` projection)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.document_template import DocumentKind
from read_api.schemas.as_of import AsOfPublic, as_of_field
from read_api.schemas.rows import Page, Position, Version, examples, page_examples

_STAMP = {
    "created_at": "2026-01-05T08:00:00.000000+00:00",
    "updated_at": "2026-01-20T16:45:03.000000+00:00",
    "version": 4,
    "position": 3980,
}
CLAUSE_EXAMPLE = {
    "clause_id": "7.1.5",
    "parent_id": "7.1",
    "title": "Monitoring and measuring resources",
    "text": "The organization shall determine and provide the resources needed",
}
STANDARD_TEMPLATE_EXAMPLE = {
    "id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
    "title": "ISO 9001:2015 checklist",
    "standard_name": "ISO 9001",
    "edition": "2015",
    "status": "published",
    "draft_version": None,
    "latest_published_version": 1,
    "latest_published_on": "2026-01-20",
    "retired_on": None,
    **_STAMP,
}
STANDARD_VERSION_EXAMPLE = {
    "template_id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
    "number": 1,
    "published_on": "2026-01-20",
    "supersedes": None,
    "clauses": [CLAUSE_EXAMPLE],
    "clause_count": 1,
    "superseded": False,
    "retired": False,
    "version": 4,
    "position": 3980,
}
DOCUMENT_TEMPLATE_EXAMPLE = {
    "id": "4b3a2918-0f7e-4d6c-9b5a-493827160f5e",
    "title": "Certificate",
    "kind": "certificate",
    "status": "active",
    "current_version": 1,
    "retired_on": None,
    **_STAMP,
}
DOCUMENT_VERSION_EXAMPLE = {
    "template_id": "4b3a2918-0f7e-4d6c-9b5a-493827160f5e",
    "number": 1,
    "title": "Certificate",
    "branding": "ACME Certification",
    "sections": ["holder", "scope"],
    "signature_block": "Managing Director",
    "created_at": "2026-01-05T08:00:00.000000+00:00",
    "retired": False,
    "version": 1,
    "position": 3950,
}


class ClausePublic(BaseModel):
    """One clause; parents come before their children."""

    clause_id: str
    parent_id: str | None
    title: str
    text: str


class StandardTemplatePublic(BaseModel):
    """A standard template (checklist) as listed."""

    model_config = ConfigDict(json_schema_extra=examples(STANDARD_TEMPLATE_EXAMPLE))

    id: UUID
    title: str
    standard_name: str
    edition: str
    status: Literal["draft", "published", "retired"]
    draft_version: int | None = Field(description="The open draft's number, if any")
    latest_published_version: int | None
    latest_published_on: date | None
    retired_on: date | None
    created_at: datetime
    updated_at: datetime
    version: Version
    position: Position


class StandardTemplatePage(Page[StandardTemplatePublic]):
    model_config = ConfigDict(
        json_schema_extra=page_examples(STANDARD_TEMPLATE_EXAMPLE)
    )


class StandardTemplateVersionPublic(BaseModel):
    """A published version and its clause tree."""

    template_id: UUID
    number: int
    published_on: date
    supersedes: int | None
    clauses: list[ClausePublic]
    clause_count: int
    superseded: bool
    retired: bool
    version: Version
    position: Position


class StandardTemplateDetail(StandardTemplatePublic):
    """One standard template: its open draft's clauses and every published
    version."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                **STANDARD_TEMPLATE_EXAMPLE,
                "versions": [STANDARD_VERSION_EXAMPLE],
                "draft_clauses": [],
            }
        )
    )

    versions: list[StandardTemplateVersionPublic] = Field(description="Oldest first")
    draft_clauses: list[ClausePublic] = Field(
        description="The open draft's clauses (empty without a draft)"
    )
    as_of: AsOfPublic | None = as_of_field()


class DocumentTemplatePublic(BaseModel):
    """A document template (report or certificate layout) as listed."""

    model_config = ConfigDict(json_schema_extra=examples(DOCUMENT_TEMPLATE_EXAMPLE))

    id: UUID
    title: str
    kind: DocumentKind
    status: Literal["active", "retired"]
    current_version: int
    retired_on: date | None
    created_at: datetime
    updated_at: datetime
    version: Version
    position: Position


class DocumentTemplatePage(Page[DocumentTemplatePublic]):
    model_config = ConfigDict(
        json_schema_extra=page_examples(DOCUMENT_TEMPLATE_EXAMPLE)
    )


class DocumentTemplateVersionPublic(BaseModel):
    """One version of a layout."""

    template_id: UUID
    number: int
    title: str
    branding: str
    sections: list[str]
    signature_block: str
    created_at: datetime
    retired: bool
    version: Version
    position: Position


class DocumentTemplateDetail(DocumentTemplatePublic):
    """One document template and every version of its layout."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {**DOCUMENT_TEMPLATE_EXAMPLE, "versions": [DOCUMENT_VERSION_EXAMPLE]}
        )
    )

    versions: list[DocumentTemplateVersionPublic] = Field(description="Oldest first")
    as_of: AsOfPublic | None = as_of_field()
