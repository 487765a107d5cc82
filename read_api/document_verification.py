"""Checking a copy of a document: ``POST /documents/{document_id}/verify``.

Someone holding a file (a client forwarding a report, an auditor finding a
certificate in a mailbox) uploads it to learn whether it is byte for byte
the document issued. The answer compares the file's SHA-256 with the one
recorded in the document's ``document.rendered`` event, and renders the
document again from the event store at the versions its request recorded to
show that the issued file is what those sources give. The document is
scoped like its detail (``GET /documents/{document_id}``): one the caller
may not see is a 404. The upload is read on a worker thread, in chunks; it
is never stored.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from infra.document_builds import CopyVerdict, DocumentBuilder
from projections.collections import DOCUMENTS
from read_api.consistency import wait_for_projection
from read_api.documents import PROJECTION, MinPosition, Reader
from read_api.resources import one

router = APIRouter(tags=["documents"])


class DocumentVerificationPublic(BaseModel):
    """Whether a file is the document issued."""

    document_id: UUID
    issued: bool = Field(
        description="The file is byte for byte the document issued: its SHA-256 "
        "is the one recorded when the document was rendered"
    )
    reproduced: bool = Field(
        description="Rendering the document again from the recorded versions "
        "gives the recorded SHA-256 (checked only when the file is the one "
        "issued)"
    )
    file_sha256: str = Field(description="SHA-256 of the uploaded file")
    recorded_sha256: str | None = Field(
        description="SHA-256 recorded for the document (null unless it is ready)"
    )
    rendered_sha256: str | None = Field(
        description="SHA-256 of the document rendered again now; rendered only "
        "for the issued file (null for any other file, or if it could not be)"
    )
    detail: str | None = Field(description="Why it could not be rendered again")

    @classmethod
    def of(cls, document_id: UUID, verdict: CopyVerdict) -> DocumentVerificationPublic:
        return cls(
            document_id=document_id,
            issued=verdict.issued,
            reproduced=verdict.reproduced,
            file_sha256=verdict.file_sha256,
            recorded_sha256=verdict.recorded_sha256,
            rendered_sha256=verdict.rendered_sha256,
            detail=verdict.build_error,
        )


@router.post(
    "/documents/{document_id}/verify",
    response_model=DocumentVerificationPublic,
    responses={
        "200": {"description": "The verdict, whether or not the file is the one"},
        "413": {"description": "Larger than ASSUREHUB_UPLOAD_MAX_BYTES"},
    },
)
async def verify_document(
    document_id: UUID,
    file: Annotated[
        UploadFile,
        File(
            description="The copy to check, as held (PDF or DOCX bytes)",
            examples=["ISO-9001-stage-2-Nordic-Valves-2026-12-04.pdf"],
        ),
    ],
    request: Request,
    principal: Reader,
    position: MinPosition,
) -> DocumentVerificationPublic:
    """Whether the uploaded file is byte for byte the document issued, and
    whether the document still renders to the same bytes from its sources."""
    await wait_for_projection(request, PROJECTION, position)
    await one(request, principal, DOCUMENTS, document_id, "document")
    builder: DocumentBuilder = request.app.state.container.document_builder
    verdict = await run_in_threadpool(
        builder.verify_copy, document_id, file.file, principal.tenant_id
    )
    return DocumentVerificationPublic.of(document_id, verdict)
