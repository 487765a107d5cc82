"""Command routes for document templates."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from pydantic import Field

from commands.context import CommandContext
from commands.document_templates import (
    CreateDocumentTemplate,
    Layout,
    RetireDocumentTemplate,
    ReviseDocumentTemplate,
)
from commands.http.deps import DocumentTemplateServiceDep
from commands.http.edge import (
    ExpectedVersion,
    answer,
    context_for,
)
from commands.http.schemas import CommandAccepted, StrictBody
from commands.http.text import MultilineText, Text
from domain.access import Permission
from domain.document_template import BRANDING_MAX, SIGNATURE_BLOCK_MAX, TITLE_MAX

router = APIRouter(prefix="/document-templates", tags=["document templates"])


class DocumentLayoutIn(StrictBody):
    """A whole layout: every revision states all of it."""

    title: Text = Field(min_length=1, max_length=TITLE_MAX, examples=["Audit report"])
    branding: MultilineText = Field(
        min_length=1, max_length=BRANDING_MAX, examples=["ACME Certification Ltd"]
    )
    sections: list[Text] = Field(
        min_length=1, max_length=20, examples=[["summary", "scope", "findings"]]
    )
    signature_block: MultilineText = Field(min_length=1, max_length=SIGNATURE_BLOCK_MAX)

    def layout(self) -> Layout:
        return Layout(
            self.title, self.branding, tuple(self.sections), self.signature_block
        )


class DocumentTemplateCreate(DocumentLayoutIn):
    """Body of ``POST /document-templates``."""

    kind: Literal["audit_report", "certificate"]


Manager = Annotated[CommandContext, Depends(context_for(Permission.TEMPLATE_MANAGE))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CommandAccepted)
def create_document_template(
    body: DocumentTemplateCreate,
    ctx: Manager,
    svc: DocumentTemplateServiceDep,
    response: Response,
) -> CommandAccepted:
    """Create a document template with its first layout."""
    accepted = svc.create(ctx, CreateDocumentTemplate(body.kind, body.layout()))
    return answer(accepted, response, location=f"/document-templates/{accepted.id}")


@router.post("/{template_id}/revise", response_model=CommandAccepted)
def revise(
    template_id: UUID,
    body: DocumentLayoutIn,
    ctx: Manager,
    svc: DocumentTemplateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Make a new version of the layout."""
    command = ReviseDocumentTemplate(template_id, body.layout(), version)
    return answer(svc.revise(ctx, command), response)


@router.post("/{template_id}/retire", response_model=CommandAccepted)
def retire(
    template_id: UUID,
    ctx: Manager,
    svc: DocumentTemplateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Retire the template: no more revisions."""
    command = RetireDocumentTemplate(template_id, version)
    return answer(svc.retire(ctx, command), response)
