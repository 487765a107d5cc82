"""Query routes for audits and the findings register."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python
from starlette.concurrency import run_in_threadpool

from commands.http.edge import requires, tenant_today
from commands.ports import FileStore
from domain.access import Permission
from domain.errors import NotFoundError
from domain.principal import Principal
from infra.history.query import HistoryQuery
from infra.history.reader import Viewer
from infra.projection.as_of import AtTime, Target
from projections.audit_decisions import Publication, decided_at, decision_of
from projections.audit_tables import ASSESSMENTS, is_overdue
from projections.audits import AuditProjection
from projections.collections import AUDITS, EVIDENCE, FINDINGS
from projections.memory_listing import child_rows, listed
from projections.rows import MemoryRows, Row
from read_api.access_recording import recorded
from read_api.as_of import AsOf, fold, stamp
from read_api.consistency import min_position, wait_for_projection
from read_api.downloads import download
from read_api.exact_query import exact_query
from read_api.history_answers import history_of
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
PUBLISHED = "standard_template.published"
_SYSTEM = Viewer("system:audit-detail", sees_personal=False)
"""Reads only template publications, which hold no personal fields."""
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
    audit_id: UUID,
    request: Request,
    principal: DetailReader,
    position: MinPosition,
    as_of: AsOf,
) -> Response:
    """One audit: team, scope, clause-by-clause assessment, findings, evidence,
    review and decision. Its ETag is the version to send as If-Match. With
    ``as_of`` or ``as_of_version``: the same document as it was then, with an
    ``as_of`` object (no ETag)."""
    await wait_for_projection(request, PROJECTION, position)
    audit = await one(request, principal, AUDITS, audit_id, "audit")
    evidence = await related(request, principal, EVIDENCE, "audit_id", audit_id)
    if as_of is not None:
        answer = await audit_as_of(
            request, principal, audit_id, [e["id"] for e in evidence], as_of
        )
        return JSONResponse(to_jsonable_python(answer))
    today = await tenant_today(request, principal.tenant_id)
    assessments = await children(
        request,
        principal,
        PROJECTION,
        ASSESSMENTS,
        {"audit_id": audit_id},
        ("clause_id",),
    )
    findings = await related(request, principal, FINDINGS, "audit_id", audit_id)
    published = await publications(request, audit)
    detail = audit_detail(audit, assessments, findings, evidence, today, published)
    response = JSONResponse(to_jsonable_python(detail))
    tag(response, audit["version"])
    return response


def audit_detail(
    audit: Row,
    assessments: list[Row],
    findings: list[Row],
    evidence: list[Row],
    today: date,
    published: Sequence[Publication] = (),
) -> Row:
    """The audit detail from its read-model rows (live or as of a moment),
    with the publications of its standard template up to then."""
    return {
        **audit,
        "decision": decision_of(audit, findings, published),
        "assessments": assessments,
        "findings": [_with_overdue(f, today) for f in findings],
        "evidence": evidence,
    }


async def publications(
    request: Request, audit: Row, upto: int | None = None
) -> list[Publication]:
    """The published versions of the audit's standard template (up to store
    position ``upto``), read from the template's events; none are needed
    (and none read) without a decision whose position was kept."""
    if decided_at(audit) is None:
        return []
    history = history_of(request)
    query = HistoryQuery(types=(PUBLISHED,))
    template_id = audit["standard_template_id"]
    page = await run_in_threadpool(history.aggregate_page, template_id, query, _SYSTEM)
    return [
        Publication(e["data"]["template_version"], e["position"])
        for e in page.entries
        if upto is None or e["position"] <= upto
    ]


async def audit_as_of(
    request: Request,
    principal: Principal,
    audit_id: UUID,
    evidence_ids: list[UUID],
    target: Target,
    parameter: str = "as_of_version",
) -> Row:
    """The audit detail as it was at ``target``, from the audits projection
    folded over the audit's and its evidence's events (``parameter``: the
    query parameter a version not reached is blamed on)."""
    folded = await fold(
        request, AuditProjection(), "audit", audit_id, evidence_ids, target, parameter
    )
    moment = target.time if isinstance(target, AtTime) else folded.moment.recorded_at
    day = await tenant_today(request, principal.tenant_id, moment)
    detail = audit_detail_of(principal, folded.rows, audit_id, day)
    if detail is None:
        raise NotFoundError("audit", audit_id)
    published = await publications(request, detail, folded.moment.position)
    if published:
        findings = detail["findings"]
        detail["decision"] = decision_of(detail, findings, published)
    return stamp(detail, folded, target)


def audit_detail_of(
    principal: Principal, rows: MemoryRows, audit_id: UUID, today: date
) -> Row | None:
    """The audit detail read from the audits projection's rows in memory, as
    the live detail reads them from the read model (``None``: no such audit
    in the caller's scopes)."""
    where = {"audit_id": audit_id}
    audit = listed(principal, AUDITS, rows.rows(AUDITS.table.name), {"id": audit_id})
    if not audit:
        return None
    return audit_detail(
        audit[0],
        child_rows(
            principal, ASSESSMENTS, rows.rows(ASSESSMENTS.name), where, ("clause_id",)
        ),
        listed(principal, FINDINGS, rows.rows(FINDINGS.table.name), where),
        listed(principal, EVIDENCE, rows.rows(EVIDENCE.table.name), where),
        today,
    )


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
