"""Query routes for client organizations."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from commands.http.edge import requires
from domain.access import Permission
from domain.errors import NotFoundError
from domain.principal import Principal
from projections.organizations import OrganizationProjection, OrganizationQuery
from read_api.consistency import min_position, wait_for_projection
from read_api.schemas import OrganizationPage, OrganizationPublic

router = APIRouter(prefix="/organizations", tags=["organizations"])

PROJECTION = OrganizationProjection.name
MAX_PAGE = 200

Reader = Annotated[Principal, Depends(requires(Permission.ORGANIZATION_READ))]
MinPosition = Annotated[int | None, Depends(min_position)]


@router.get("", response_model=OrganizationPage)
async def list_organizations(
    request: Request,
    principal: Reader,
    position: MinPosition,
    name_prefix: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> OrganizationPage:
    """Organizations of the caller's tenant, by name, a page at a time."""
    await wait_for_projection(request, PROJECTION, position)
    view = request.app.state.container.organization_view
    page = await run_in_threadpool(
        view.list,
        principal,
        OrganizationQuery(
            name_prefix=name_prefix,
            country=country.upper() if country else None,
            after=cursor,
            limit=limit,
        ),
    )
    return OrganizationPage(
        items=[OrganizationPublic.of(r) for r in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{organization_id}", response_model=OrganizationPublic)
async def get_organization(
    organization_id: UUID,
    request: Request,
    response: Response,
    principal: Reader,
    position: MinPosition,
) -> OrganizationPublic:
    """One organization; its ETag is the version to send as If-Match."""
    await wait_for_projection(request, PROJECTION, position)
    view = request.app.state.container.organization_view
    record = await run_in_threadpool(view.get, principal, organization_id)
    if record is None:
        raise NotFoundError("organization", organization_id)
    response.headers["ETag"] = f'"{record.version}"'
    return OrganizationPublic.of(record)
