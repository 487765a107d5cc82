"""Command routes for client organizations."""

from __future__ import annotations

from typing import Annotated, Protocol
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response, status

from commands.http.edge import RequestId, command_context, expected_version, requires
from commands.http.schemas import (
    CommandAccepted,
    OrganizationCreate,
    OrganizationRename,
    SiteAccepted,
    SiteCreate,
)
from commands.organizations import (
    AddSite,
    OrganizationService,
    RegisterOrganization,
    RenameOrganization,
)
from domain.access import Permission
from domain.principal import Principal

router = APIRouter(prefix="/organizations", tags=["organizations"])

IfMatch = Annotated[
    str | None,
    Header(description='The ETag you read (e.g. "3"); stale → 412'),
]


class HasOrganizationService(Protocol):
    organizations: OrganizationService


def service(request: Request) -> OrganizationService:
    services: HasOrganizationService = request.app.state.services
    return services.organizations


Service = Annotated[OrganizationService, Depends(service)]
Registrar = Annotated[Principal, Depends(requires(Permission.ORGANIZATION_REGISTER))]
Updater = Annotated[Principal, Depends(requires(Permission.ORGANIZATION_UPDATE))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CommandAccepted)
def register_organization(
    body: OrganizationCreate,
    principal: Registrar,
    rid: RequestId,
    svc: Service,
    response: Response,
) -> CommandAccepted:
    """Register a client organization."""
    accepted = svc.register_organization(
        command_context(principal, rid), RegisterOrganization(body.name, body.country)
    )
    response.headers["Location"] = f"/organizations/{accepted.id}"
    response.headers["ETag"] = f'"{accepted.version}"'
    return CommandAccepted(
        id=accepted.id, version=accepted.version, position=accepted.position
    )


@router.post("/{organization_id}/rename", response_model=CommandAccepted)
def rename_organization(
    organization_id: UUID,
    body: OrganizationRename,
    principal: Updater,
    rid: RequestId,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
) -> CommandAccepted:
    """Rename an organization."""
    accepted = svc.rename_organization(
        command_context(principal, rid),
        RenameOrganization(organization_id, body.name, expected_version(if_match)),
    )
    response.headers["ETag"] = f'"{accepted.version}"'
    return CommandAccepted(
        id=accepted.id, version=accepted.version, position=accepted.position
    )


@router.post(
    "/{organization_id}/sites",
    status_code=status.HTTP_201_CREATED,
    response_model=SiteAccepted,
)
def add_site(
    organization_id: UUID,
    body: SiteCreate,
    principal: Updater,
    rid: RequestId,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
) -> SiteAccepted:
    """Add a site to an organization."""
    accepted = svc.add_site(
        command_context(principal, rid),
        AddSite(
            organization_id,
            body.name,
            body.address,
            body.country,
            expected_version(if_match),
        ),
    )
    response.headers["Location"] = f"/organizations/{accepted.id}"
    response.headers["ETag"] = f'"{accepted.version}"'
    return SiteAccepted(
        id=accepted.id,
        version=accepted.version,
        position=accepted.position,
        site_id=accepted.site_id,
    )
