"""Command routes for client organizations."""

from __future__ import annotations

from typing import Annotated, Protocol
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response, status

from commands.context import Accepted
from commands.http.edge import RequestId, command_context, expected_version, requires
from commands.http.schemas import (
    CommandAccepted,
    OrganizationArchive,
    OrganizationCreate,
    OrganizationDetailsChange,
    OrganizationRename,
    SiteAccepted,
    SiteChange,
    SiteCreate,
)
from commands.organizations import (
    AddSite,
    ArchiveOrganization,
    ChangeOrganizationDetails,
    ChangeSite,
    OrganizationService,
    RegisterOrganization,
    RemoveSite,
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


def _answer(accepted: Accepted, response: Response) -> CommandAccepted:
    response.headers["ETag"] = f'"{accepted.version}"'
    return CommandAccepted(
        id=accepted.id, version=accepted.version, position=accepted.position
    )


@router.post("/{organization_id}/change-details", response_model=CommandAccepted)
def change_details(
    organization_id: UUID,
    body: OrganizationDetailsChange,
    principal: Updater,
    rid: RequestId,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
) -> CommandAccepted:
    """Change the registered country and registration number."""
    accepted = svc.change_details(
        command_context(principal, rid),
        ChangeOrganizationDetails(
            organization_id,
            body.country,
            body.registration_number,
            expected_version(if_match),
        ),
    )
    return _answer(accepted, response)


@router.post(
    "/{organization_id}/sites/{site_id}/change", response_model=CommandAccepted
)
def change_site(
    organization_id: UUID,
    site_id: UUID,
    body: SiteChange,
    principal: Updater,
    rid: RequestId,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
) -> CommandAccepted:
    """Change a site's name, address or country."""
    accepted = svc.change_site(
        command_context(principal, rid),
        ChangeSite(
            organization_id,
            site_id,
            body.name,
            body.address,
            body.country,
            expected_version(if_match),
        ),
    )
    return _answer(accepted, response)


@router.post(
    "/{organization_id}/sites/{site_id}/remove", response_model=CommandAccepted
)
def remove_site(
    organization_id: UUID,
    site_id: UUID,
    principal: Updater,
    rid: RequestId,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
) -> CommandAccepted:
    """Remove a site from an organization."""
    accepted = svc.remove_site(
        command_context(principal, rid),
        RemoveSite(organization_id, site_id, expected_version(if_match)),
    )
    return _answer(accepted, response)


@router.post("/{organization_id}/archive", response_model=CommandAccepted)
def archive_organization(
    organization_id: UUID,
    body: OrganizationArchive,
    principal: Updater,
    rid: RequestId,
    svc: Service,
    response: Response,
    if_match: IfMatch = None,
) -> CommandAccepted:
    """Archive an organization: read-only from now on, no new audits."""
    accepted = svc.archive(
        command_context(principal, rid),
        ArchiveOrganization(organization_id, body.reason, expected_version(if_match)),
    )
    return _answer(accepted, response)
