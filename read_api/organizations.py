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
from projections.collections import CERTIFICATES
from projections.listing import UnknownFilterError
from projections.organizations import OrganizationProjection, OrganizationQuery
from read_api.consistency import min_position, wait_for_projection
from read_api.resources import related
from read_api.schemas import (
    CurrentCertificate,
    OrganizationDetail,
    OrganizationPage,
    OrganizationPublic,
)

router = APIRouter(prefix="/organizations", tags=["organizations"])

PROJECTION = OrganizationProjection.name
MAX_PAGE = 200

Reader = Annotated[Principal, Depends(requires(Permission.ORGANIZATION_READ))]
MinPosition = Annotated[int | None, Depends(min_position)]
LIST_PARAMETERS = ("name_prefix", "country", "cursor", "limit", "min_position")
IN_FORCE = ("active", "suspended")


def known_parameters(request: Request) -> None:
    """Refuse a query parameter the list does not take (never ignore it)."""
    for name in request.query_params:
        if name not in LIST_PARAMETERS:
            raise UnknownFilterError(
                name,
                f"unknown query parameter {name!r}; allowed: "
                + ", ".join(LIST_PARAMETERS),
                LIST_PARAMETERS,
            )


@router.get(
    "", response_model=OrganizationPage, dependencies=[Depends(known_parameters)]
)
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


@router.get("/{organization_id}", response_model=OrganizationDetail)
async def get_organization(
    organization_id: UUID,
    request: Request,
    response: Response,
    principal: Reader,
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
    return OrganizationDetail(
        **OrganizationPublic.of(record).model_dump(),
        certificates=[
            CurrentCertificate.model_validate(c)
            for c in held
            if c["status"] in IN_FORCE and c["superseded_by_id"] is None
        ],
    )
