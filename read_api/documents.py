"""Query routes for documents: the list, one document, its file, and a
certificate's newest document.

Documents are scoped like what they are about: the caller's tenant, its
organization and audit scopes, and for a client only its organizations'
certificate documents and, once the audit is closed, its audits' reports
(see :data:`~projections.collections.DOCUMENTS`). Anything else is a 404.

The file of a document that is not ``ready`` is a ``409``
(``document.not_ready``): the document exists, unlike a 404's, and the
detail says whether it is still pending or failed.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from commands.http.edge import requires
from commands.ports import FileStore
from domain.access import Permission
from domain.document_values import DocumentFormat, DocumentStatus
from domain.errors import NotFoundError, RuleViolationError
from domain.principal import Principal
from projections.collections import DOCUMENTS
from projections.listing import Condition, ListQuery, Op
from projections.rows import Row
from read_api.access_recording import recorded
from read_api.consistency import min_position, wait_for_projection
from read_api.downloads import download
from read_api.exact_query import exact_query
from read_api.listing import list_response, listing_openapi, listing_view
from read_api.resources import one, tag
from read_api.schemas.documents import DocumentPage, DocumentPublic

router = APIRouter(tags=["documents"])

PROJECTION = DOCUMENTS.projection
NEWEST = "-certificate_version,-requested_at"

Reader = Annotated[Principal, Depends(requires(Permission.DOCUMENT_READ))]
DetailReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.DOCUMENT_READ)))
]
MinPosition = Annotated[int | None, Depends(min_position)]
DETAIL: dict[int | str, dict[str, Any]] = {
    "200": {"description": "The document, with its ETag (its version)"}
}


@router.get(
    "/documents", response_model=DocumentPage, openapi_extra=listing_openapi(DOCUMENTS)
)
async def list_documents(
    request: Request, principal: Reader, position: MinPosition
) -> Response:
    """Audit reports and certificate documents the caller may see, newest
    first: status, format, file facts and the versions rendered from."""
    return await list_response(request, principal, DOCUMENTS, position)


@router.get("/documents/{document_id}", response_model=DocumentPublic, responses=DETAIL)
async def get_document(
    document_id: UUID, request: Request, principal: DetailReader, position: MinPosition
) -> Response:
    """One document: ``pending``, ``ready`` (SHA-256, size, pages, file
    name) or ``failed`` (a code and detail), the template and audit or
    certificate version it is rendered from. Its ETag is its version."""
    await wait_for_projection(request, PROJECTION, position)
    row = await one(request, principal, DOCUMENTS, document_id, "document")
    return _detail(row)


@router.get(
    "/documents/{document_id}/content",
    response_class=Response,
    responses={
        "200": {
            "description": "The file, streamed; ETag = its SHA-256",
            "content": {
                fmt.media_type: {"schema": {"type": "string", "format": "binary"}}
                for fmt in DocumentFormat
            },
        },
        "409": {"description": "Pending or failed: `document.not_ready`"},
    },
    openapi_extra=recorded("document"),
)
async def download_document(
    document_id: UUID, request: Request, principal: DetailReader, position: MinPosition
) -> Response:
    """The document's file, with its media type, its SHA-256 as ETag and a
    file name a person would keep (``filename*`` for names beyond ASCII)."""
    await wait_for_projection(request, PROJECTION, position)
    row = await one(request, principal, DOCUMENTS, document_id, "document")
    if row["status"] != DocumentStatus.READY.value:
        raise RuleViolationError(
            "document.not_ready",
            f"document {document_id} is {row['status']}; its file is served "
            "once it is ready",
        )
    files: FileStore = request.app.state.read_services.files
    return await download(
        files,
        row["sha256"],
        media_type=row["media_type"],
        size=row["size"],
        file_name=row["file_name"],
        missing=NotFoundError("document content", document_id),
    )


@router.get(
    "/certificates/{certificate_id}/document",
    response_model=DocumentPublic,
    responses=DETAIL,
)
async def get_certificate_document(
    certificate_id: UUID,
    request: Request,
    principal: DetailReader,
    position: MinPosition,
) -> Response:
    """The newest ready document of the certificate (of its latest version
    rendered); 404 while it has none."""
    await wait_for_projection(request, PROJECTION, position)
    query = ListQuery(
        (
            Condition("certificate_id", Op.ANY, ("certificate_id",), (certificate_id,)),
            Condition("status", Op.ANY, ("status",), (DocumentStatus.READY.value,)),
        ),
        DOCUMENTS.sort_keys(NEWEST),
        None,
        1,
    )
    view = listing_view(request)
    page = await run_in_threadpool(view.page, principal, DOCUMENTS, query)
    if not page.items:
        raise NotFoundError("document of certificate", certificate_id)
    return _detail(page.items[0])


def _detail(row: Row) -> Response:
    document = DocumentPublic.model_validate(row)
    response = JSONResponse(document.model_dump(mode="json"))
    tag(response, document.version)
    return response
