"""Query routes for client organizations."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from commands.http.edge import requires
from domain.access import Permission
from domain.errors import NotFoundError
from domain.principal import Principal
from projections.collections import CERTIFICATES, ORGANIZATIONS
from projections.organizations import OrganizationProjection
from read_api.consistency import min_position, wait_for_projection
from read_api.exact_query import exact_query
from read_api.listing import list_response, listing_openapi
from read_api.resources import related
from read_api.schemas.organizations import (
    CurrentCertificate,
    OrganizationDetail,
    OrganizationPage,
)

router = APIRouter(prefix="/organizations", tags=["organizations"])

PROJECTION = OrganizationProjection.name

Reader = Annotated[Principal, Depends(requires(Permission.ORGANIZATION_READ))]
DetailReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.ORGANIZATION_READ)))
]
MinPosition = Annotated[int | None, Depends(min_position)]
IN_FORCE = ("active", "suspended")


@router.get(
    "", response_model=OrganizationPage, openapi_extra=listing_openapi(ORGANIZATIONS)
)
async def list_organizations(
    request: Request, principal: Reader, position: MinPosition
) -> Response:
    """Organizations of the caller's tenant and scopes, by name by default, a
    page at a time (or all of them as CSV); sites are on the detail."""
    return await list_response(request, principal, ORGANIZATIONS, position)


@router.get("/{organization_id}", response_model=OrganizationDetail)
async def get_organization(
    organization_id: UUID,
    request: Request,
    response: Response,
    principal: DetailReader,
    position: MinPosition,
) -> OrganizationDetail:
    """One organization with its sites and its certificates in force; its
    ETag is the version to send as If-Match."""
    await wait_for_projection(request, PROJECTION, position)
    await wait_for_projection(request, CERTIFICATES.projection, position)
    view = request.app.state.container.organization_view
    record = await run_in_threadpool(view.get, principal, organization_id)
    if record is None:
        raise NotFoundError("organization", organization_id)
    held = await related(
        request, principal, CERTIFICATES, "organization_id", organization_id
    )
    response.headers["ETag"] = f'"{record.version}"'
    return OrganizationDetail.of(
        record,
        [
            CurrentCertificate.model_validate(c)
            for c in held
            if c["status"] in IN_FORCE and c["superseded_by_id"] is None
        ],
    )
