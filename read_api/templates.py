"""Query routes for standard and document templates with their versions."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python

from commands.http.edge import requires
from domain.access import Permission
from domain.errors import NotFoundError
from domain.principal import Principal
from infra.projection.as_of import Target
from projections.collections import DOCUMENT_TEMPLATES, STANDARD_TEMPLATES
from projections.listing import Listing
from projections.memory_listing import child_rows, listed
from projections.rows import MemoryRows, Row, Table
from projections.templates import (
    DOCUMENT_VERSIONS,
    STANDARD_VERSIONS,
    TABLES,
    TemplateProjection,
)
from read_api.as_of import AsOf, fold, stamp
from read_api.consistency import min_position, wait_for_projection
from read_api.exact_query import exact_query
from read_api.listing import list_response, listing_openapi
from read_api.resources import children, one, tag
from read_api.schemas.templates import (
    DocumentTemplateDetail,
    DocumentTemplatePage,
    StandardTemplateDetail,
    StandardTemplatePage,
)

router = APIRouter(tags=["templates"])

PROJECTION = TemplateProjection.name
_TABLES = {t.name: t for t in TABLES}

Reader = Annotated[Principal, Depends(requires(Permission.TEMPLATE_READ))]
DetailReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.TEMPLATE_READ)))
]
MinPosition = Annotated[int | None, Depends(min_position)]
DETAIL: dict[int | str, dict[str, Any]] = {
    "200": {"description": "The template and its versions, with its ETag"}
}


@router.get(
    "/standard-templates",
    response_model=StandardTemplatePage,
    openapi_extra=listing_openapi(STANDARD_TEMPLATES),
)
async def list_standard_templates(
    request: Request, principal: Reader, position: MinPosition
) -> Response:
    """Standard templates (checklists) of the caller's tenant."""
    return await list_response(request, principal, STANDARD_TEMPLATES, position)


@router.get(
    "/standard-templates/{template_id}",
    response_model=StandardTemplateDetail,
    responses=DETAIL,
)
async def get_standard_template(
    template_id: UUID,
    request: Request,
    principal: DetailReader,
    position: MinPosition,
    as_of: AsOf,
) -> Response:
    """One standard template: its open draft's clauses and every published
    version with its clause tree (superseded ones stay readable). With
    ``as_of`` or ``as_of_version``: as it was then, with an ``as_of`` object."""
    return await _detail(
        request,
        principal,
        position,
        STANDARD_TEMPLATES,
        template_id,
        STANDARD_VERSIONS,
        as_of,
    )


@router.get(
    "/document-templates",
    response_model=DocumentTemplatePage,
    openapi_extra=listing_openapi(DOCUMENT_TEMPLATES),
)
async def list_document_templates(
    request: Request, principal: Reader, position: MinPosition
) -> Response:
    """Document templates (report and certificate layouts) of the tenant."""
    return await list_response(request, principal, DOCUMENT_TEMPLATES, position)


@router.get(
    "/document-templates/{template_id}",
    response_model=DocumentTemplateDetail,
    responses=DETAIL,
)
async def get_document_template(
    template_id: UUID,
    request: Request,
    principal: DetailReader,
    position: MinPosition,
    as_of: AsOf,
) -> Response:
    """One document template and every version of its layout. With ``as_of``
    or ``as_of_version``: as it was then, with an ``as_of`` object."""
    return await _detail(
        request,
        principal,
        position,
        DOCUMENT_TEMPLATES,
        template_id,
        DOCUMENT_VERSIONS,
        as_of,
    )


async def _detail(
    request: Request,
    principal: Principal,
    position: int | None,
    listing: Listing,
    template_id: UUID,
    versions: str,
    as_of: Target | None,
) -> Response:
    await wait_for_projection(request, PROJECTION, position)
    template = await one(request, principal, listing, template_id, "template")
    if as_of is not None:
        folded = await fold(
            request, TemplateProjection(), "template", template_id, (), as_of
        )
        detail = template_detail_of(
            principal, folded.rows, listing, template_id, versions
        )
        if detail is None:
            raise NotFoundError("template", template_id)
        return JSONResponse(to_jsonable_python(stamp(detail, folded, as_of)))
    table: Table = _TABLES[versions]
    template["versions"] = await children(
        request, principal, PROJECTION, table, {"template_id": template_id}, ("number",)
    )
    if listing is STANDARD_TEMPLATES:
        template["draft_clauses"] = await _draft(request, principal, template_id)
    response = JSONResponse(to_jsonable_python(template))
    tag(response, template["version"])
    return response


def template_detail_of(
    principal: Principal,
    rows: MemoryRows,
    listing: Listing,
    template_id: UUID,
    versions: str,
) -> Row | None:
    """A template's detail from the templates projection's rows in memory,
    read as the live detail reads them."""
    found = listed(
        principal, listing, rows.rows(listing.table.name), {"id": template_id}
    )
    if not found:
        return None
    template = found[0]
    template["versions"] = child_rows(
        principal,
        _TABLES[versions],
        rows.rows(versions),
        {"template_id": template_id},
        ("number",),
    )
    if listing is STANDARD_TEMPLATES:
        own = child_rows(
            principal,
            listing.table,
            rows.rows(listing.table.name),
            {"id": template_id},
            ("id",),
        )
        template["draft_clauses"] = own[0]["draft_clauses"] if own else []
    return template


async def _draft(request: Request, principal: Principal, template_id: UUID) -> object:
    rows = await children(
        request,
        principal,
        PROJECTION,
        _TABLES[STANDARD_TEMPLATES.table.name],
        {"id": template_id},
        ("id",),
    )
    return rows[0]["draft_clauses"] if rows else []
