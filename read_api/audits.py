"""Query routes for audits and the findings register."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python

from commands.http.edge import requires, tenant_today
from commands.ports import FileStore
from domain.access import Permission
from domain.errors import NotFoundError
from domain.principal import Principal
from projections.audit_tables import ASSESSMENTS, is_overdue
from projections.audits import AuditProjection
from projections.collections import AUDITS, EVIDENCE, FINDINGS
from projections.rows import Row
from read_api.access_recording import recorded
from read_api.consistency import min_position, wait_for_projection
from read_api.downloads import download
from read_api.exact_query import exact_query
from read_api.listing import Derived, list_response, listing_openapi
from read_api.resources import children, one, related, tag
from read_api.schemas.audits import AuditDetail, AuditPage
from read_api.schemas.findings import EvidencePublic, FindingDetail, FindingPage

router = APIRouter(tags=["audits"])

PROJECTION = AuditProjection.name

Reader = Annotated[Principal, Depends(requires(Permission.AUDIT_READ))]
DetailReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.AUDIT_READ)))
]
MinPosition = Annotated[int | None, Depends(min_position)]
DETAIL: dict[int | str, dict[str, Any]] = {
    "200": {"description": "The detail, with its ETag (the audit version)"}
}


@router.get("/audits", response_model=AuditPage, openapi_extra=listing_openapi(AUDITS))
async def list_audits(
    request: Request, principal: Reader, position: MinPosition
) -> Response:
    """Audits of the caller's tenant and scopes, with finding counts by grade
    and status, a page at a time (or all of them as CSV)."""
    return await list_response(request, principal, AUDITS, position)


@router.get("/audits/{audit_id}", response_model=AuditDetail, responses=DETAIL)
async def get_audit(
    audit_id: UUID, request: Request, principal: DetailReader, position: MinPosition
) -> Response:
    """One audit: team, scope, clause-by-clause assessment, findings, evidence,
    review and decision. Its ETag is the version to send as If-Match."""
    await wait_for_projection(request, PROJECTION, position)
    audit = await one(request, principal, AUDITS, audit_id, "audit")
    today = await tenant_today(request, principal.tenant_id)
    audit["assessments"] = await children(
        request,
        principal,
        PROJECTION,
        ASSESSMENTS,
        {"audit_id": audit_id},
        ("clause_id",),
    )
    findings = await related(request, principal, FINDINGS, "audit_id", audit_id)
    audit["findings"] = [_with_overdue(f, today) for f in findings]
    audit["evidence"] = await related(
        request, principal, EVIDENCE, "audit_id", audit_id
    )
    response = JSONResponse(to_jsonable_python(audit))
    tag(response, audit["version"])
    return response


@router.get(
    "/audits/{audit_id}/findings/{finding_id}",
    response_model=FindingDetail,
    responses=DETAIL,
)
async def get_finding(
    audit_id: UUID,
    finding_id: UUID,
    request: Request,
    principal: DetailReader,
    position: MinPosition,
) -> Response:
    """One finding. Its commands go to the audit, so its ETag is the audit's
    version."""
    await wait_for_projection(request, PROJECTION, position)
    audit = await one(request, principal, AUDITS, audit_id, "audit")
    finding = await one(request, principal, FINDINGS, finding_id, "finding")
    if finding["audit_id"] != audit_id:
        raise NotFoundError("finding", finding_id)
    today = await tenant_today(request, principal.tenant_id)
    finding["evidence"] = await related(
        request, principal, EVIDENCE, "finding_id", finding_id
    )
    response = JSONResponse(to_jsonable_python(_with_overdue(finding, today)))
    tag(response, audit["version"])
    return response


@router.get(
    "/audits/{audit_id}/evidence/{evidence_id}",
    response_model=EvidencePublic,
    responses={"200": {"description": "The record, with its ETag (the SHA-256)"}},
)
async def get_evidence(
    audit_id: UUID,
    evidence_id: UUID,
    request: Request,
    principal: DetailReader,
    position: MinPosition,
) -> Response:
    """One evidence file's record: name, size, type, SHA-256, who uploaded it
    and when; its ETag is the content's SHA-256."""
    await wait_for_projection(request, PROJECTION, position)
    evidence = await _evidence(request, principal, audit_id, evidence_id)
    response = JSONResponse(to_jsonable_python(evidence))
    response.headers["ETag"] = f'"{evidence["sha256"]}"'
    return response


@router.get(
    "/audits/{audit_id}/evidence/{evidence_id}/content",
    response_class=Response,
    responses={
        "200": {
            "description": "The file's bytes, as uploaded, in the type sniffed "
            "at upload",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    openapi_extra=recorded("evidence"),
)
async def download_evidence(
    audit_id: UUID,
    evidence_id: UUID,
    request: Request,
    principal: DetailReader,
    position: MinPosition,
) -> Response:
    """The evidence file itself, streamed, with the type sniffed at upload."""
    await wait_for_projection(request, PROJECTION, position)
    evidence = await _evidence(request, principal, audit_id, evidence_id)
    files: FileStore = request.app.state.read_services.files
    return await download(
        files,
        evidence["sha256"],
        media_type=evidence["media_type"],
        size=evidence["size"],
        file_name=str(evidence["file_name"]),
        missing=NotFoundError("evidence content", evidence_id),
    )


async def _evidence(
    request: Request, principal: Principal, audit_id: UUID, evidence_id: UUID
) -> Row:
    evidence = await one(request, principal, EVIDENCE, evidence_id, "evidence")
    if evidence["audit_id"] != audit_id:
        raise NotFoundError("evidence", evidence_id)
    return evidence


@router.get(
    "/findings", response_model=FindingPage, openapi_extra=listing_openapi(FINDINGS)
)
async def list_findings(
    request: Request, principal: Reader, position: MinPosition
) -> Response:
    """The findings register across the caller's audits: grade, status,
    clause, due date, organization, audit, and whether it is overdue today
    (in the tenant's time zone). To list only overdue corrective actions,
    filter ``action_due=true`` with ``due_date_to`` set to yesterday."""
    today = await tenant_today(request, principal.tenant_id)
    overdue = Derived(("overdue",), lambda row: {"overdue": is_overdue(row, today)})
    return await list_response(request, principal, FINDINGS, position, derived=overdue)


def _with_overdue(finding: Row, today: Any) -> Row:
    return {**finding, "overdue": is_overdue(finding, today)}
