"""Commands on a tenant's settings (time zone, MFA policy, certificate
template), and the tenant calendar commands date by.

Every command that records a calendar date (an audit's start, a decision, a
certificate's issue, a suspension) dates it "today" in the tenant's time
zone, which :class:`TenantCalendar` answers. The calendar keeps each tenant's
zone for a short time (``ttl_seconds``) so that a command does not pay a read
for it; a change made through this process is seen at once, one made through
another process within ``ttl_seconds``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from commands.context import Accepted, CommandContext
from commands.errors import ConcurrentWriteError
from commands.handling import AggregateHandler
from commands.ports import EventStore
from domain.access import Permission, authorize
from domain.document_template import DocumentTemplate
from domain.tenant_settings import (
    DEFAULT_TIME_ZONE,
    TenantSettings,
    settings_id,
    today_in,
)


@dataclass(frozen=True)
class SetTimeZone:
    time_zone: str
    expected_version: int | None = None


@dataclass(frozen=True)
class SetMfaPolicy:
    """Require MFA of every account, or of accounts holding one of
    ``required_roles`` (Role values)."""

    required_for_all: bool
    required_roles: Collection[str] = ()
    expected_version: int | None = None


@dataclass(frozen=True)
class SetCertificateTemplate:
    """Render the tenant's certificates with this document template."""

    template_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class TenantSettingsView:
    """A tenant's settings as the API shows them (version 0: never set)."""

    tenant_id: str
    time_zone: str
    version: int
    mfa_required_for_all: bool = False
    mfa_required_roles: tuple[str, ...] = ()
    certificate_template_id: UUID | None = None


class TenantCalendar:
    """Today's date in each tenant's time zone."""

    def __init__(
        self,
        store: EventStore,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._zones: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def cached_zone(self, tenant_id: str) -> str | None:
        """The tenant's zone if known and fresh (no I/O)."""
        with self._lock:
            entry = self._zones.get(tenant_id)
        if entry is None or self._clock() - entry[1] > self._ttl:
            return None
        return entry[0]

    def time_zone(self, tenant_id: str) -> str:
        """The tenant's time zone (UTC if never set)."""
        zone = self.cached_zone(tenant_id)
        if zone is None:
            settings = self._store.load(TenantSettings, settings_id(tenant_id))
            zone = settings.time_zone if settings is not None else DEFAULT_TIME_ZONE
            self.remember(tenant_id, zone)
        return zone

    def remember(self, tenant_id: str, zone: str) -> None:
        """Record the tenant's current zone (after a change, or a read)."""
        with self._lock:
            self._zones[tenant_id] = (zone, self._clock())

    def today(self, tenant_id: str) -> date:
        """The calendar date now in the tenant's time zone."""
        return today_in(self.time_zone(tenant_id))


class TenantSettingsService:
    """Application service whose methods are the tenant-settings commands."""

    def __init__(self, store: EventStore, calendar: TenantCalendar) -> None:
        self._handler = AggregateHandler(store)
        self._store = store
        self._calendar = calendar

    def show(self, ctx: CommandContext) -> TenantSettingsView:
        """The caller's tenant's settings."""
        authorize(ctx.principal, Permission.TENANT_SETTINGS_READ)
        tenant = ctx.principal.tenant_id
        settings = self._store.load(TenantSettings, settings_id(tenant))
        if settings is None:
            return TenantSettingsView(tenant, DEFAULT_TIME_ZONE, 0)
        return TenantSettingsView(
            tenant,
            settings.time_zone,
            settings.version,
            settings.mfa_required_for_all,
            tuple(sorted(role.value for role in settings.mfa_required_roles)),
            settings.certificate_template_id,
        )

    def set_time_zone(self, ctx: CommandContext, cmd: SetTimeZone) -> Accepted:
        """Date the tenant's calendar in ``cmd.time_zone`` from now on."""
        tenant = ctx.principal.tenant_id
        accepted = self._set(ctx, cmd)
        self._calendar.remember(tenant, cmd.time_zone.strip())
        return accepted

    def _set(self, ctx: CommandContext, cmd: SetTimeZone) -> Accepted:
        return self._configure(
            ctx,
            cmd.expected_version,
            lambda: TenantSettings.configure(ctx.meta(), cmd.time_zone),
            lambda s: s.set_time_zone(ctx.meta(), cmd.time_zone),
        )

    def set_mfa_policy(self, ctx: CommandContext, cmd: SetMfaPolicy) -> Accepted:
        """Require MFA of the tenant's accounts (all, or those holding one of
        the roles) from their next login; an unchanged policy records nothing.

        Raises:
            InvalidValueError: an unknown role.
        """
        return self._configure(
            ctx,
            cmd.expected_version,
            lambda: TenantSettings.with_mfa_policy(
                ctx.meta(), cmd.required_for_all, cmd.required_roles
            ),
            lambda s: s.set_mfa_policy(
                ctx.meta(), cmd.required_for_all, cmd.required_roles
            ),
        )

    def set_certificate_template(
        self, ctx: CommandContext, cmd: SetCertificateTemplate
    ) -> Accepted:
        """Render the tenant's certificates with ``cmd.template_id`` (its
        current layout at each request) from now on; the same template again
        records nothing.

        Raises:
            NotFoundError: no such document template in the tenant.
            RuleViolationError: ``document.template_retired``,
                ``document.template_wrong_kind``.
        """
        authorize(ctx.principal, Permission.TENANT_SETTINGS_MANAGE)
        template = self._handler.load(ctx, DocumentTemplate, cmd.template_id)
        return self._configure(
            ctx,
            cmd.expected_version,
            lambda: TenantSettings.with_certificate_template(ctx.meta(), template),
            lambda s: s.choose_certificate_template(ctx.meta(), template),
        )

    def _configure(
        self,
        ctx: CommandContext,
        expected_version: int | None,
        create: Callable[[], TenantSettings],
        change: Callable[[TenantSettings], None],
    ) -> Accepted:
        """Create the tenant's settings with ``create`` if there are none yet
        (and no version is expected), else apply ``change`` to them."""
        tenant = ctx.principal.tenant_id
        if expected_version in (None, 0) and (
            self._store.load(TenantSettings, settings_id(tenant)) is None
        ):
            try:
                return self._handler.create(
                    ctx, Permission.TENANT_SETTINGS_MANAGE, create
                )
            except ConcurrentWriteError:
                pass  # another first writer won: change what it made
        return self._handler.accept(
            ctx,
            Permission.TENANT_SETTINGS_MANAGE,
            TenantSettings,
            settings_id(tenant),
            expected_version or None,
            change,
        )
