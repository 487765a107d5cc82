"""Commands on client organizations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from commands.context import Accepted, CommandContext
from commands.errors import ConcurrentWriteError
from commands.ports import EventStore
from domain.access import Permission, authorize
from domain.errors import NotFoundError, VersionConflictError
from domain.organization import Organization

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class RegisterOrganization:
    name: str
    country: str


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
        self._store = store

    def register_organization(
        self, ctx: CommandContext, cmd: RegisterOrganization
    ) -> Accepted:
        """Register a client organization in the caller's tenant."""
        authorize(ctx.principal, Permission.ORGANIZATION_REGISTER)
        org = Organization.register(ctx.meta(), cmd.name, cmd.country)
        position = self._store.append(org)
        return Accepted(org.id, org.version, position)

    def rename_organization(
        self, ctx: CommandContext, cmd: RenameOrganization
    ) -> Accepted:
        """Rename an organization of the caller's tenant."""
        return self._simple(
            ctx,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.rename(ctx.meta(), cmd.name),
        )

    def add_site(self, ctx: CommandContext, cmd: AddSite) -> SiteAccepted:
        """Add a site to an organization of the caller's tenant."""
        authorize(ctx.principal, Permission.ORGANIZATION_UPDATE)
        site_ids: list[UUID] = []

        def decide(org: Organization) -> None:
            site_ids.append(
                org.add_site(ctx.meta(), cmd.name, cmd.address, cmd.country)
            )

        org, position = self._change(
            ctx, cmd.organization_id, cmd.expected_version, decide
        )
        return SiteAccepted(org.id, org.version, position, site_ids[-1])

    def change_details(
        self, ctx: CommandContext, cmd: ChangeOrganizationDetails
    ) -> Accepted:
        """Change the registered country and registration number."""
        return self._simple(
            ctx,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.change_details(
                ctx.meta(), cmd.country, cmd.registration_number
            ),
        )

    def change_site(self, ctx: CommandContext, cmd: ChangeSite) -> Accepted:
        """Change a site's name, address or country."""
        return self._simple(
            ctx,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.change_site(
                ctx.meta(), cmd.site_id, cmd.name, cmd.address, cmd.country
            ),
        )

    def remove_site(self, ctx: CommandContext, cmd: RemoveSite) -> Accepted:
        """Remove a site."""
        return self._simple(
            ctx,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.remove_site(ctx.meta(), cmd.site_id),
        )

    def archive(self, ctx: CommandContext, cmd: ArchiveOrganization) -> Accepted:
        """Archive an organization: read-only, no new audits."""
        return self._simple(
            ctx,
            cmd.organization_id,
            cmd.expected_version,
            lambda org: org.archive(ctx.meta(), cmd.reason),
        )

    def _simple(
        self,
        ctx: CommandContext,
        organization_id: UUID,
        expected_version: int | None,
        decide: Callable[[Organization], None],
    ) -> Accepted:
        authorize(ctx.principal, Permission.ORGANIZATION_UPDATE)
        org, position = self._change(ctx, organization_id, expected_version, decide)
        return Accepted(org.id, org.version, position)

    def _load(self, ctx: CommandContext, organization_id: UUID) -> Organization:
        org = self._store.load(Organization, organization_id)
        if (
            org is None
            or org.tenant_id != ctx.principal.tenant_id
            or not ctx.principal.may_see_organization(org.id)
        ):
            raise NotFoundError("organization", organization_id)
        return org

    def _change(
        self,
        ctx: CommandContext,
        organization_id: UUID,
        expected_version: int | None,
        decide: Callable[[Organization], None],
    ) -> tuple[Organization, int]:
        """Load, check the expected version, decide, append.

        Without an expected version a lost race is retried on fresh state;
        with one, it is the caller's conflict to resolve.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            org = self._load(ctx, organization_id)
            if expected_version is not None and org.version != expected_version:
                raise VersionConflictError(org.id, expected_version, org.version)
            decide(org)
            try:
                return org, self._store.append(org)
            except ConcurrentWriteError:
                if expected_version is not None or attempt == MAX_ATTEMPTS:
                    if expected_version is not None:
                        current = self._load(ctx, organization_id).version
                        raise VersionConflictError(
                            org.id, expected_version, current
                        ) from None
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
