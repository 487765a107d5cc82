"""Command routes for client organizations."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from commands.context import CommandContext
from commands.http.deps import OrganizationServiceDep
from commands.http.edge import (
    ExpectedVersion,
    answer,
    context_for,
)
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
    RegisterOrganization,
    RemoveSite,
    RenameOrganization,
)
from domain.access import Permission

router = APIRouter(prefix="/organizations", tags=["organizations"])


Registrar = Annotated[
    CommandContext, Depends(context_for(Permission.ORGANIZATION_REGISTER))
]
Updater = Annotated[
    CommandContext, Depends(context_for(Permission.ORGANIZATION_UPDATE))
]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CommandAccepted)
def register_organization(
    body: OrganizationCreate,
    ctx: Registrar,
    svc: OrganizationServiceDep,
    response: Response,
) -> CommandAccepted:
    """Register a client organization."""
    accepted = svc.register_organization(
        ctx, RegisterOrganization(body.name, body.country, body.registration_number)
    )
    return answer(accepted, response, location=f"/organizations/{accepted.id}")


@router.post("/{organization_id}/rename", response_model=CommandAccepted)
def rename_organization(
    organization_id: UUID,
    body: OrganizationRename,
    ctx: Updater,
    svc: OrganizationServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Rename an organization."""
    command = RenameOrganization(organization_id, body.name, version)
    return answer(svc.rename_organization(ctx, command), response)


@router.post(
    "/{organization_id}/sites",
    status_code=status.HTTP_201_CREATED,
    response_model=SiteAccepted,
)
def add_site(
    organization_id: UUID,
    body: SiteCreate,
    ctx: Updater,
    svc: OrganizationServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> SiteAccepted:
    """Add a site to an organization."""
    accepted = svc.add_site(
        ctx,
        AddSite(
            organization_id,
            body.name,
            body.address,
            body.country,
            version,
        ),
    )
    base = answer(accepted, response, location=f"/organizations/{accepted.id}")
    return SiteAccepted(**base.model_dump(), site_id=accepted.site_id)


@router.post("/{organization_id}/change-details", response_model=CommandAccepted)
def change_details(
    organization_id: UUID,
    body: OrganizationDetailsChange,
    ctx: Updater,
    svc: OrganizationServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Change the registered country and registration number."""
    command = ChangeOrganizationDetails(
        organization_id,
        body.country,
        body.registration_number,
        version,
    )
    return answer(svc.change_details(ctx, command), response)


@router.post(
    "/{organization_id}/sites/{site_id}/change", response_model=CommandAccepted
)
def change_site(
    organization_id: UUID,
    site_id: UUID,
    body: SiteChange,
    ctx: Updater,
    svc: OrganizationServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Change a site's name, address or country."""
    command = ChangeSite(
        organization_id,
        site_id,
        body.name,
        body.address,
        body.country,
        version,
    )
    return answer(svc.change_site(ctx, command), response)


@router.post(
    "/{organization_id}/sites/{site_id}/remove", response_model=CommandAccepted
)
def remove_site(
    organization_id: UUID,
    site_id: UUID,
    ctx: Updater,
    svc: OrganizationServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Remove a site from an organization."""
    command = RemoveSite(organization_id, site_id, version)
    return answer(svc.remove_site(ctx, command), response)


@router.post("/{organization_id}/archive", response_model=CommandAccepted)
def archive_organization(
    organization_id: UUID,
    body: OrganizationArchive,
    ctx: Updater,
    svc: OrganizationServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Archive an organization: read-only from now on, no new audits."""
    command = ArchiveOrganization(organization_id, body.reason, version)
    return answer(svc.archive(ctx, command), response)
