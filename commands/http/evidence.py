"""Evidence upload routes (multipart)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Response,
    UploadFile,
    status,
)
from pydantic import Field

from commands.context import CommandContext
from commands.evidence import UploadEvidence
from commands.http.deps import EvidenceServiceDep
from commands.http.edge import answer, context_for
from commands.http.schemas import CommandAccepted
from domain.access import Permission

router = APIRouter(prefix="/audits", tags=["evidence"])


class EvidenceUploaded(CommandAccepted):
    sha256: str = Field(description="SHA-256 of the stored bytes")
    size: int
    media_type: str = Field(description="Sniffed from the bytes, not the header")


Uploader = Annotated[CommandContext, Depends(context_for(Permission.EVIDENCE_UPLOAD))]


@router.post(
    "/{audit_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceUploaded,
    responses={
        413: {"description": "Larger than ASSUREHUB_UPLOAD_MAX_BYTES"},
        415: {"description": "Not a PDF, PNG, JPEG, Office or text file"},
    },
)
def upload_evidence(
    audit_id: UUID,
    file: Annotated[
        UploadFile,
        File(description="The evidence file (PDF, PNG, JPEG, …; sniffed, not trusted)"),
    ],
    ctx: Uploader,
    svc: EvidenceServiceDep,
    response: Response,
    finding_id: Annotated[
        UUID | None,
        Form(
            description="The finding it supports, if any",
            examples=["3f0c6f1e-8a4b-4d6e-9b7a-2c1d5e8f9a01"],
        ),
    ] = None,
) -> EvidenceUploaded:
    """Upload a file as evidence for an audit, or for one of its findings."""
    accepted = svc.upload(
        ctx,
        UploadEvidence(
            audit_id=audit_id,
            file_name=file.filename or "upload",
            content=file.file,
            finding_id=finding_id,
        ),
    )
    location = f"/audits/{audit_id}/evidence/{accepted.id}"
    base = answer(accepted, response, location=location)
    return EvidenceUploaded(
        **base.model_dump(),
        sha256=accepted.sha256,
        size=accepted.size,
        media_type=accepted.media_type,
    )
