"""A tenant's settings: the time zone its calendar dates are in, its
multi-factor authentication (MFA) policy, and the document template its
certificates are rendered with.

Dates in AssureHub (audit start, decision, issue, suspension, due dates) are
calendar dates in the tenant's time zone; timestamps are UTC. A tenant that
never set a time zone works in UTC. There is one settings aggregate per
tenant, its id derived from the tenant id (:func:`settings_id`), so it can be
found without an index and two first writers conflict instead of making two.

The MFA policy requires a second factor of every account of the tenant or of
accounts holding chosen roles; a tenant that never set one requires none.

The certificate template is the document template every certificate's PDF
is rendered with (its current layout at the time); a tenant that never chose
one gets no certificate documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from eventsourcing.domain import Aggregate

from domain.document_template import DocumentKind, DocumentTemplate
from domain.document_values import usable_layout
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta
from domain.principal import Role

DEFAULT_TIME_ZONE = "UTC"


def settings_id(tenant_id: str) -> UUID:
    """The id of ``tenant_id``'s settings aggregate."""
    return uuid5(NAMESPACE_URL, f"assurehub:tenant-settings:{tenant_id}")


def valid_time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone (``Europe/Berlin``), else an error.

    Raises:
        InvalidValueError: not a known IANA zone name.
    """
    name = name.strip()
    if name not in available_timezones() and name != DEFAULT_TIME_ZONE:
        raise InvalidValueError(
            "time_zone", f"{name!r} is not an IANA time zone such as 'Europe/Berlin'"
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:  # pragma: no cover - listed
        raise InvalidValueError("time_zone", f"{name!r} cannot be loaded") from e
    return name


def today_in(time_zone: str, now: datetime | None = None) -> date:
    """The calendar date in ``time_zone`` at ``now`` (default: the present)."""
    moment = now if now is not None else datetime.now(UTC)
    return moment.astimezone(ZoneInfo(time_zone)).date()


class TenantSettings(Aggregate):
    """One tenant's settings."""

    class Event(Aggregate.Event):
        """Base of TenantSettings events."""

        TYPE: ClassVar[str]
        meta: EventMeta

    class Configured(Event, Aggregate.Created):
        """The tenant's settings were first recorded."""

        TYPE = "tenant_settings.configured"
        time_zone: str

    class TimeZoneChanged(Event):
        """The tenant's calendar moved to another time zone."""

        TYPE = "tenant_settings.time_zone_changed"
        time_zone: str

        def apply(self, aggregate: TenantSettings) -> None:
            aggregate.time_zone = self.time_zone

    class MfaPolicyChanged(Event):
        """The tenant changed whom it requires a second factor of."""

        TYPE = "tenant_settings.mfa_policy_changed"
        required_for_all: bool
        required_roles: tuple[str, ...]

        def apply(self, aggregate: TenantSettings) -> None:
            aggregate.mfa_required_for_all = self.required_for_all
            aggregate.mfa_required_roles = frozenset(
                Role(r) for r in self.required_roles
            )

    class CertificateTemplateChosen(Event):
        """The tenant chose the document template its certificates are
        rendered with."""

        TYPE = "tenant_settings.certificate_template_chosen"
        template_id: UUID

        def apply(self, aggregate: TenantSettings) -> None:
            aggregate.certificate_template_id = self.template_id

    def __init__(self, meta: EventMeta, time_zone: str) -> None:
        self.tenant_id = meta.tenant_id
        self.time_zone = time_zone
        self.mfa_required_for_all = False
        self.mfa_required_roles: frozenset[Role] = frozenset()
        self.certificate_template_id: UUID | None = None

    @classmethod
    def configure(cls, meta: EventMeta, time_zone: str) -> TenantSettings:
        """First settings of ``meta``'s tenant.

        Raises:
            InvalidValueError: ``time_zone`` is not an IANA zone.
        """
        return cls._create(
            cls.Configured,
            id=settings_id(meta.tenant_id),
            meta=meta,
            time_zone=valid_time_zone(time_zone),
        )

    @classmethod
    def with_mfa_policy(
        cls,
        meta: EventMeta,
        required_for_all: bool,
        required_roles: Iterable[str],
        time_zone: str = DEFAULT_TIME_ZONE,
    ) -> TenantSettings:
        """First settings of ``meta``'s tenant, set with an MFA policy (and
        ``time_zone``, UTC unless given).

        Raises:
            InvalidValueError: ``time_zone`` is not an IANA zone; an unknown
                role.
        """
        roles = _valid_required_roles(required_roles)
        settings = cls.configure(meta, time_zone)
        settings.set_mfa_policy(meta, required_for_all, roles)
        return settings

    @classmethod
    def with_certificate_template(
        cls, meta: EventMeta, template: DocumentTemplate
    ) -> TenantSettings:
        """First settings of ``meta``'s tenant (in UTC), with ``template``
        for certificates.

        Raises:
            RuleViolationError: as for :meth:`choose_certificate_template`.
        """
        usable_layout(template, DocumentKind.CERTIFICATE, None)
        settings = cls.configure(meta, DEFAULT_TIME_ZONE)
        settings.choose_certificate_template(meta, template)
        return settings

    def set_time_zone(self, meta: EventMeta, time_zone: str) -> None:
        """Move the tenant's calendar to ``time_zone`` (no event if unchanged).

        Raises:
            InvalidValueError: ``time_zone`` is not an IANA zone.
        """
        time_zone = valid_time_zone(time_zone)
        if time_zone != self.time_zone:
            self.trigger_event(self.TimeZoneChanged, meta=meta, time_zone=time_zone)

    def set_mfa_policy(
        self, meta: EventMeta, required_for_all: bool, required_roles: Iterable[str]
    ) -> None:
        """Require MFA of every account (``required_for_all``) or of accounts
        holding one of ``required_roles`` (no event if unchanged).

        Raises:
            InvalidValueError: an unknown role, naming ``required_roles``.
        """
        roles = _valid_required_roles(required_roles)
        if (required_for_all, roles) != (
            self.mfa_required_for_all,
            self.mfa_required_roles,
        ):
            self.trigger_event(
                self.MfaPolicyChanged,
                meta=meta,
                required_for_all=required_for_all,
                required_roles=tuple(sorted(r.value for r in roles)),
            )

    def choose_certificate_template(
        self, meta: EventMeta, template: DocumentTemplate
    ) -> None:
        """Render certificates with ``template`` from now on (no event if it
        is the one chosen already).

        Raises:
            RuleViolationError: the template is retired
                (``document.template_retired``) or lays out audit reports
                (``document.template_wrong_kind``).
        """
        usable_layout(template, DocumentKind.CERTIFICATE, None)
        if template.id != self.certificate_template_id:
            self.trigger_event(
                self.CertificateTemplateChosen, meta=meta, template_id=template.id
            )

    def mfa_required(self, roles: frozenset[Role]) -> bool:
        """Whether the policy requires MFA of an account holding ``roles``."""
        return self.mfa_required_for_all or not self.mfa_required_roles.isdisjoint(
            roles
        )


def certificate_template_of(settings: TenantSettings | None, tenant_id: str) -> UUID:
    """The document template ``tenant_id`` renders certificates with.

    Raises:
        RuleViolationError: the tenant never chose one
            (``tenant_settings.no_certificate_template``).
    """
    chosen = settings.certificate_template_id if settings is not None else None
    if chosen is None:
        raise RuleViolationError(
            "tenant_settings.no_certificate_template",
            f"tenant {tenant_id} has chosen no certificate template "
            "(POST /tenant/settings/certificate-template)",
        )
    return chosen


def _valid_required_roles(values: Iterable[str]) -> frozenset[Role]:
    roles: set[Role] = set()
    for value in values:
        try:
            roles.add(Role(value))
        except ValueError:
            raise InvalidValueError(
                "required_roles", f"{value!r} is not a role"
            ) from None
    return frozenset(roles)
