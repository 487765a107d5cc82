"""Commands on client organizations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from commands.context import Accepted, CommandContext
from commands.handling import AggregateHandler
from commands.ports import EventStore
from domain.access import Permission
from domain.organization import Organization


@dataclass(frozen=True)
class RegisterOrganization:
    name: str
    country: str
    registration_number: str | None = None


@dataclass(frozen=True)
class RenameOrganization:
    organization_id: UUID
    name: str
    expected_version: int | None = None


@dataclass(frozen=True)
class AddSite:
    organization_id: UUID
    name: str
    address: str
    country: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class ChangeOrganizationDetails:
    organization_id: UUID
    country: str
    registration_number: str | None
    expected_version: int | None = None


@dataclass(frozen=True)
class ChangeSite:
    organization_id: UUID
    site_id: UUID
    name: str
    address: str
    country: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class RemoveSite:
    organization_id: UUID
    site_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class ArchiveOrganization:
    organization_id: UUID
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class SiteAccepted(Accepted):
    site_id: UUID


class OrganizationService:
    """Application service whose methods are the organization commands."""

    def __init__(self, store: EventStore) -> None:
        self._handler = AggregateHandler(store)

    def register_organization(
        self, ctx: CommandContext, cmd: RegisterOrganization
    ) -> Accepted:
        """Register a client organization in the caller's tenant."""
        return self._handler.create(
            ctx,
            Permission.ORGANIZATION_REGISTER,
            lambda: Organization.register(
                ctx.meta(), cmd.name, cmd.country, cmd.registration_number
            ),
        )

    def rename_organization(
        self, ctx: CommandContext, cmd: RenameOrganization
    ) -> Accepted:
        """Rename an organization of the caller's tenant."""
        return self._update(
            ctx,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.rename(ctx.meta(), cmd.name),
        )

    def add_site(self, ctx: CommandContext, cmd: AddSite) -> SiteAccepted:
        """Add a site to an organization of the caller's tenant."""
        accepted, site_id = self._handler.change(
            ctx,
            Permission.ORGANIZATION_UPDATE,
            Organization,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.add_site(ctx.meta(), cmd.name, cmd.address, cmd.country),
            visible=lambda org: ctx.principal.may_see_organization(org.id),
        )
        return SiteAccepted(
            accepted.id, accepted.version, accepted.position, UUID(str(site_id))
        )

    def change_details(
        self, ctx: CommandContext, cmd: ChangeOrganizationDetails
    ) -> Accepted:
        """Change the registered country and registration number."""
        return self._update(
            ctx,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.change_details(
                ctx.meta(), cmd.country, cmd.registration_number
            ),
        )

    def change_site(self, ctx: CommandContext, cmd: ChangeSite) -> Accepted:
        """Change a site's name, address or country."""
        return self._update(
            ctx,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.change_site(
                ctx.meta(), cmd.site_id, cmd.name, cmd.address, cmd.country
            ),
        )

    def remove_site(self, ctx: CommandContext, cmd: RemoveSite) -> Accepted:
        """Remove a site."""
        return self._update(
            ctx,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.remove_site(ctx.meta(), cmd.site_id),
        )

    def archive(self, ctx: CommandContext, cmd: ArchiveOrganization) -> Accepted:
        """Archive an organization: read-only, no new audits."""
        return self._update(
            ctx,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.archive(ctx.meta(), cmd.reason),
        )

    def _update(
        self,
        ctx: CommandContext,
        organization_id: UUID,
        expected_version: int | None,
        decide: Callable[[Organization], object],
    ) -> Accepted:
        return self._handler.change(
            ctx,
            Permission.ORGANIZATION_UPDATE,
            Organization,
            organization_id,
            expected_version,
            decide,
            visible=lambda org: ctx.principal.may_see_organization(org.id),
        )[0]
