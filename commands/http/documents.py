"""Command route for documents: asking for an audit report.

The report is rendered by the document processor, so the answer is ``202``:
the request is recorded, and ``GET /documents/{id}`` (``Location``) shows it
``pending`` until the file is ``ready`` (or the render ``failed``).
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from pydantic import Field

from commands.context import CommandContext
from commands.documents import RequestAuditReport
from commands.http.deps import DocumentServiceDep
from commands.http.edge import answer, context_for
from commands.http.schemas import CommandAccepted, StrictBody
from domain.access import Permission

router = APIRouter(tags=["documents"])


class DocumentRequest(StrictBody):
    """Body of ``POST /audits/{audit_id}/documents``."""

    kind: Literal["audit_report"] = Field(
        description="What to render; certificates are rendered automatically",
        examples=["audit_report"],
    )
    template_id: UUID = Field(
        description="A document template of kind audit_report, not retired",
        examples=["6f1c1b9e-3f0a-4c47-9a52-1d2f7e6b8c01"],
    )
    template_version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The layout version; the template's current one if omitted",
    )
    format: Literal["pdf", "docx"] = Field(examples=["pdf"])


Requester = Annotated[CommandContext, Depends(context_for(Permission.DOCUMENT_REQUEST))]


@router.post(
    "/audits/{audit_id}/documents",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CommandAccepted,
    responses={
        202: {"description": "Requested; Location is the document, pending"},
        422: {"description": "Unknown format or template version"},
    },
)
def request_audit_report(
    audit_id: UUID,
    body: DocumentRequest,
    ctx: Requester,
    svc: DocumentServiceDep,
    response: Response,
) -> CommandAccepted:
    """Ask for a report of the audit as it is now, laid out by a document
    template; it is marked DRAFT if the audit is not decided yet. Programme
    managers, and auditors for an audit they lead."""
    accepted = svc.request_audit_report(
        ctx,
        RequestAuditReport(
            audit_id, body.template_id, body.template_version, body.format
        ),
    )
    return answer(accepted, response, location=f"/documents/{accepted.id}")
