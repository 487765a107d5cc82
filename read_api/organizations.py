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
from infra.projection.as_of import AsOfFolds, AtTime, Folded, Target
from projections.certificates import CertificateProjection
from projections.collections import CERTIFICATES, ORGANIZATIONS
from projections.memory_listing import child_rows, listed
from projections.organizations import (
    SITES,
    OrganizationProjection,
    OrganizationRecord,
    SiteRecord,
)
from projections.rows import MemoryRows, Row
from read_api.as_of import AsOf, fold, stamp
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


@router.get(
    "/{organization_id}",
    response_model=OrganizationDetail,
    response_model_exclude_unset=True,
)
async def get_organization(
    organization_id: UUID,
    request: Request,
    response: Response,
    principal: DetailReader,
    position: MinPosition,
    as_of: AsOf,
) -> OrganizationDetail:
    """One organization with its sites and its certificates in force; its
    ETag is the version to send as If-Match. With ``as_of`` or
    ``as_of_version``: as it was then (its certificates in force then), with
    an ``as_of`` object (no ETag)."""
    await wait_for_projection(request, PROJECTION, position)
    await wait_for_projection(request, CERTIFICATES.projection, position)
    view = request.app.state.container.organization_view
    record = await run_in_threadpool(view.get, principal, organization_id)
    if record is None:
        raise NotFoundError("organization", organization_id)
    held = await related(
        request, principal, CERTIFICATES, "organization_id", organization_id
    )
    if as_of is not None:
        return await _as_of(request, principal, organization_id, held, as_of)
    response.headers["ETag"] = f'"{record.version}"'
    return organization_detail(record, held)


def organization_detail(
    record: OrganizationRecord, held: list[Row]
) -> OrganizationDetail:
    """The detail of ``record`` with its certificates in force among ``held``."""
    return OrganizationDetail.of(
        record,
        [
            CurrentCertificate.model_validate(c)
            for c in held
            if c["status"] in IN_FORCE and c["superseded_by_id"] is None
        ],
    )


async def _as_of(
    request: Request,
    principal: Principal,
    organization_id: UUID,
    held: list[Row],
    target: Target,
) -> OrganizationDetail:
    """The detail as it was at ``target``: the organization's events folded,
    and its certificates' events up to the same moment."""
    folded = await fold(
        request, OrganizationProjection(), "organization", organization_id, (), target
    )
    folds: AsOfFolds = request.app.state.container.as_of
    detail = await run_in_threadpool(
        organization_detail_at,
        folds,
        principal,
        organization_id,
        [c["id"] for c in held],
        folded,
        target,
    )
    if detail is None:
        raise NotFoundError("organization", organization_id)
    return detail


def organization_detail_at(
    folds: AsOfFolds,
    principal: Principal,
    organization_id: UUID,
    certificate_ids: list[UUID],
    folded: Folded,
    target: Target,
) -> OrganizationDetail | None:
    """The detail from the organization's folded rows, with its certificates
    in force at the same moment (their events recorded by then folded)
    (``None``: no such organization in the caller's scopes).

    Raises:
        DependencyUnavailableError: Postgres cannot be reached.
    """
    record = record_of(principal, folded.rows, organization_id)
    if record is None:
        return None
    moment = target.time if isinstance(target, AtTime) else folded.moment.recorded_at
    rows = folds.fold_all(
        CertificateProjection(), certificate_ids, lambda e: e.time <= moment
    )
    certificates = listed(
        principal,
        CERTIFICATES,
        rows.rows(CERTIFICATES.table.name),
        {"organization_id": organization_id},
    )
    detail = organization_detail(record, certificates)
    detail.as_of = stamp({}, folded, target)["as_of"]
    return detail


def record_of(
    principal: Principal, rows: MemoryRows, organization_id: UUID
) -> OrganizationRecord | None:
    """The organization's record from its projection's rows in memory, with
    its sites in the order the live view reads them."""
    found = rows.get(ORGANIZATIONS.table.name, (principal.tenant_id, organization_id))
    if found is None or not principal.may_see_organization(organization_id):
        return None
    sites = child_rows(
        principal,
        SITES,
        rows.rows(SITES.name),
        {"organization_id": organization_id},
        ("position", "id"),
    )
    return OrganizationRecord(
        tenant_id=principal.tenant_id,
        id=organization_id,
        name=found["name"],
        country=found["country"],
        registration_number=found["registration_number"],
        archived=found["archived"],
        sites=tuple(
            SiteRecord(s["id"], s["name"], s["address"], s["country"]) for s in sites
        ),
        version=found["version"],
        registered_at=found["registered_at"],
        updated_at=found["updated_at"],
    )
