"""A person's account in one tenant: invitation, roles, MFA, security events.

Lifecycle: invited → active (the invitation is accepted before it expires) →
deactivated → reactivated (back to active if it had ever been activated,
else to invited). Roles follow :func:`~domain.account_values.check_account_roles`:
client roles stand alone and need client organizations; ``platform_admin``
lives only in the ``platform`` tenant. Credentials (password hash, TOTP
secret, recovery codes) are never in events; the events record that they
changed. Logins, failures, lockouts and session revocations are recorded on
the account in any status: they say what happened. Times are passed in,
time-zone aware; the domain never reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.account_erasure import ErasureCommands
from domain.account_values import (
    CLIENT_ROLES,
    MFA_METHOD_TOTP,
    AccountStatus,
    LockoutStage,
    LoginFailureReason,
    LoginMethod,
    PasswordChangeReason,
    check_account_roles,
    enum_value,
    organization_values,
    role_values,
    utc_time,
    valid_address,
    valid_email,
    valid_name,
    valid_revocation_reason,
    valid_roles,
)
from domain.errors import RuleViolationError
from domain.events import EventMeta
from domain.personal import ERASED
from domain.principal import Role


class Account(ErasureCommands, Aggregate):
    """A person who logs in to one tenant."""

    class Event(Aggregate.Event):
        """Base of Account events."""

        TYPE: ClassVar[str]
        PERSONAL: ClassVar[frozenset[str]] = frozenset()
        PERSON: ClassVar[str] = "originator_id"
        """Whose personal fields: the account's own person."""
        meta: EventMeta

    class Invited(Event, Aggregate.Created):
        """A tenant administrator invited the person by e-mail."""

        TYPE = "account.invited"
        PERSONAL = frozenset({"email", "name"})
        email: str
        name: str
        roles: tuple[str, ...]
        organization_ids: tuple[UUID, ...]
        expires_at: datetime

    class InvitationReissued(Event):
        """A new invitation replaced the earlier ones."""

        TYPE = "account.invitation_reissued"
        expires_at: datetime

        def apply(self, aggregate: Account) -> None:
            aggregate.invitation_expires_at = self.expires_at

    class Activated(Event):
        """The person accepted the invitation and set a password."""

        TYPE = "account.activated"

        def apply(self, aggregate: Account) -> None:
            aggregate.status = AccountStatus.ACTIVE
            aggregate.activated = True
            aggregate.invitation_expires_at = None

    class PasswordChanged(Event):
        """The password changed, by its owner or through a reset link."""

        TYPE = "account.password_changed"
        reason: str

        def apply(self, aggregate: Account) -> None:
            aggregate.password_reset_expires_at = None

    class PasswordResetRequested(Event):
        """A password reset link was sent to the account's e-mail."""

        TYPE = "account.password_reset_requested"
        expires_at: datetime

        def apply(self, aggregate: Account) -> None:
            aggregate.password_reset_expires_at = self.expires_at

    class RolesGranted(Event):
        """The account was given these roles."""

        TYPE = "account.roles_granted"
        roles: tuple[str, ...]

        def apply(self, aggregate: Account) -> None:
            aggregate.roles = aggregate.roles | {Role(r) for r in self.roles}

    class RolesRevoked(Event):
        """The account lost these roles."""

        TYPE = "account.roles_revoked"
        roles: tuple[str, ...]

        def apply(self, aggregate: Account) -> None:
            aggregate.roles = aggregate.roles - {Role(r) for r in self.roles}

    class OrganizationScopeChanged(Event):
        """The client organizations the account is limited to changed."""

        TYPE = "account.organization_scope_changed"
        organization_ids: tuple[UUID, ...]

        def apply(self, aggregate: Account) -> None:
            aggregate.organization_ids = frozenset(self.organization_ids)

    class Deactivated(Event):
        """The account can no longer log in; its sessions end."""

        TYPE = "account.deactivated"

        def apply(self, aggregate: Account) -> None:
            aggregate.status = AccountStatus.DEACTIVATED

    class Reactivated(Event):
        """A deactivated account was let back in."""

        TYPE = "account.reactivated"

        def apply(self, aggregate: Account) -> None:
            aggregate.status = (
                AccountStatus.ACTIVE if aggregate.activated else AccountStatus.INVITED
            )

    class MfaEnrolled(Event):
        """The person confirmed a second factor."""

        TYPE = "account.mfa_enrolled"
        method: str

        def apply(self, aggregate: Account) -> None:
            aggregate.mfa_enrolled = True

    class MfaReset(Event):
        """The second factor and its recovery codes were removed."""

        TYPE = "account.mfa_reset"

        def apply(self, aggregate: Account) -> None:
            aggregate.mfa_enrolled = False

    class RecoveryCodesRegenerated(Event):
        """New recovery codes replaced the old ones."""

        TYPE = "account.recovery_codes_regenerated"

    class LoginSucceeded(Event):
        """The person logged in; a session started."""

        TYPE = "account.login_succeeded"
        PERSONAL = frozenset({"address"})
        method: str
        address: str | None
        session_id: UUID

    class LoginFailed(Event):
        """A login attempt on the account failed."""

        TYPE = "account.login_failed"
        PERSONAL = frozenset({"address"})
        reason: str
        address: str | None

    class MfaChallenged(Event):
        """The password was right; the login now waits for the second factor."""

        TYPE = "account.mfa_challenged"
        PERSONAL = frozenset({"address"})
        address: str | None

    class LockedOut(Event):
        """Repeated failures locked a login step of the account for a while."""

        TYPE = "account.locked_out"
        PERSONAL = frozenset({"address"})
        stage: str
        until: datetime
        address: str | None

    class LoggedOut(Event):
        """The person ended a session."""

        TYPE = "account.logged_out"
        session_id: UUID

    class SessionsRevoked(Event):
        """Every session of the account was ended."""

        TYPE = "account.sessions_revoked"
        reason: str

    class LegalHoldSet(Event):
        """A tenant administrator put the person's data on legal hold."""

        TYPE = "account.legal_hold_set"
        reason: str

        def apply(self, aggregate: Account) -> None:
            aggregate.legal_hold = self.reason

    class LegalHoldCleared(Event):
        """The legal hold ended."""

        TYPE = "account.legal_hold_cleared"

        def apply(self, aggregate: Account) -> None:
            aggregate.legal_hold = None

    class Erased(Event):
        """The person was erased: their data key is destroyed, so their
        personal fields read ``[erased]`` everywhere; the account is stopped."""

        TYPE = "account.erased"

        def apply(self, aggregate: Account) -> None:
            aggregate.erased = True
            aggregate.email = ERASED
            aggregate.name = ERASED
            aggregate.status = AccountStatus.DEACTIVATED

    def __init__(
        self,
        meta: EventMeta,
        email: str,
        name: str,
        roles: tuple[str, ...],
        organization_ids: tuple[UUID, ...],
        expires_at: datetime,
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.email = email
        self.name = name
        self.roles = frozenset(Role(r) for r in roles)
        self.organization_ids = frozenset(organization_ids)
        self.status = AccountStatus.INVITED
        self.activated = False
        self.mfa_enrolled = False
        self.invitation_expires_at: datetime | None = expires_at
        self.password_reset_expires_at: datetime | None = None
        self.legal_hold: str | None = None
        self.erased = False

    @property
    def is_active(self) -> bool:
        """Whether the account may log in."""
        return self.status is AccountStatus.ACTIVE

    @property
    def is_client(self) -> bool:
        """Whether the account is a client organization's (limited to
        :attr:`organization_ids`)."""
        return not self.roles.isdisjoint(CLIENT_ROLES)

    def _refuse(self, rule: str, detail: str) -> RuleViolationError:
        return RuleViolationError(rule, f"account {self.id} {detail}")

    def _check_status(self, status: AccountStatus, rule: str) -> None:
        if self.status is not status:
            raise self._refuse(rule, f"is {self.status.value}, not {status.value}")

    @classmethod
    def invite(
        cls,
        meta: EventMeta,
        email: str,
        name: str,
        roles: Iterable[str],
        organization_ids: Iterable[UUID],
        expires_at: datetime,
    ) -> Account:
        """Invite a person to ``meta``'s tenant with ``roles``.

        Args:
            organization_ids: The client organizations a client account is
                limited to; empty for every other account.
            expires_at: When the invitation stops being accepted.

        Raises:
            InvalidValueError: bad e-mail or name, no or unknown roles, naive
                ``expires_at``.
            RuleViolationError: the roles break a rule of
                :func:`~domain.account_values.check_account_roles`.
        """
        account_id = uuid4()
        valid_roles_ = valid_roles(roles)
        organizations = frozenset(organization_ids)
        check_account_roles(account_id, meta.tenant_id, valid_roles_, organizations)
        return cls._create(
            cls.Invited,
            id=account_id,
            meta=meta,
            email=valid_email(email),
            name=valid_name(name),
            roles=role_values(valid_roles_),
            organization_ids=organization_values(organizations),
            expires_at=utc_time(expires_at, "expires_at"),
        )

    def reissue_invitation(self, meta: EventMeta, expires_at: datetime) -> None:
        """Send a new invitation that expires at ``expires_at``.

        Raises:
            InvalidValueError: naive ``expires_at``.
            RuleViolationError: ``account.not_invited``.
        """
        self._check_status(AccountStatus.INVITED, "account.not_invited")
        self.trigger_event(
            self.InvitationReissued,
            meta=meta,
            expires_at=utc_time(expires_at, "expires_at"),
        )

    def activate(self, meta: EventMeta, now: datetime) -> None:
        """Accept the invitation at ``now``.

        Raises:
            InvalidValueError: naive ``now``.
            RuleViolationError: ``account.not_invited``,
                ``account.invitation_expired``.
        """
        moment = utc_time(now, "now")
        self._check_status(AccountStatus.INVITED, "account.not_invited")
        expires_at = self.invitation_expires_at
        if expires_at is not None and moment > expires_at:
            raise self._refuse(
                "account.invitation_expired",
                f"was invited until {expires_at.isoformat()}; ask for a new invitation",
            )
        self.trigger_event(self.Activated, meta=meta)

    def change_password(self, meta: EventMeta, reason: str) -> None:
        """Record that the password changed (``changed`` or ``reset``).

        Raises:
            InvalidValueError: unknown reason.
            RuleViolationError: ``account.not_active``.
        """
        why = enum_value(PasswordChangeReason, reason, "reason")
        self._check_status(AccountStatus.ACTIVE, "account.not_active")
        self.trigger_event(self.PasswordChanged, meta=meta, reason=why.value)

    def request_password_reset(self, meta: EventMeta, expires_at: datetime) -> None:
        """Record that a reset link valid until ``expires_at`` was sent.

        Raises:
            InvalidValueError: naive ``expires_at``.
            RuleViolationError: ``account.not_active``.
        """
        until = utc_time(expires_at, "expires_at")
        self._check_status(AccountStatus.ACTIVE, "account.not_active")
        self.trigger_event(self.PasswordResetRequested, meta=meta, expires_at=until)

    def set_roles(
        self,
        meta: EventMeta,
        roles: Iterable[str],
        organization_ids: Iterable[UUID],
    ) -> None:
        """Give the account exactly ``roles`` and ``organization_ids``,
        recording only what changes.

        Raises:
            InvalidValueError: no or unknown roles.
            RuleViolationError: ``account.deactivated``,
                ``account.roles_unchanged``, or a rule of
                :func:`~domain.account_values.check_account_roles`.
        """
        if self.status is AccountStatus.DEACTIVATED:
            raise self._refuse("account.deactivated", "is deactivated")
        new_roles = valid_roles(roles)
        organizations = frozenset(organization_ids)
        check_account_roles(self.id, self.tenant_id, new_roles, organizations)
        granted, revoked = new_roles - self.roles, self.roles - new_roles
        if not (granted or revoked or organizations != self.organization_ids):
            raise self._refuse(
                "account.roles_unchanged", "already has these roles and organizations"
            )
        if granted:
            self.trigger_event(self.RolesGranted, meta=meta, roles=role_values(granted))
        if revoked:
            self.trigger_event(self.RolesRevoked, meta=meta, roles=role_values(revoked))
        if organizations != self.organization_ids:
            self.trigger_event(
                self.OrganizationScopeChanged,
                meta=meta,
                organization_ids=organization_values(organizations),
            )

    def deactivate(self, meta: EventMeta) -> None:
        """Stop the account from logging in.

        Raises:
            RuleViolationError: ``account.already_deactivated``,
                ``account.cannot_deactivate_self``.
        """
        if self.status is AccountStatus.DEACTIVATED:
            raise self._refuse("account.already_deactivated", "is deactivated already")
        if meta.actor_id == str(self.id):
            raise self._refuse(
                "account.cannot_deactivate_self", "cannot deactivate itself"
            )
        self.trigger_event(self.Deactivated, meta=meta)

    def reactivate(self, meta: EventMeta) -> None:
        """Let a deactivated account back in (active again if it had been
        activated, else invited again).

        Raises:
            RuleViolationError: ``account.not_deactivated``, ``account.erased``.
        """
        self._refuse_erased("be reactivated")
        self._check_status(AccountStatus.DEACTIVATED, "account.not_deactivated")
        self.trigger_event(self.Reactivated, meta=meta)

    def enroll_mfa(self, meta: EventMeta) -> None:
        """Record that the person confirmed a TOTP second factor.

        Raises:
            RuleViolationError: ``account.not_active``,
                ``account.mfa_already_enrolled``.
        """
        self._check_status(AccountStatus.ACTIVE, "account.not_active")
        if self.mfa_enrolled:
            raise self._refuse("account.mfa_already_enrolled", "is enrolled already")
        self.trigger_event(self.MfaEnrolled, meta=meta, method=MFA_METHOD_TOTP)

    def reset_mfa(self, meta: EventMeta) -> None:
        """Remove the second factor (the person enrolls again).

        Raises:
            RuleViolationError: ``account.mfa_not_enrolled``.
        """
        self._check_mfa_enrolled()
        self.trigger_event(self.MfaReset, meta=meta)

    def regenerate_recovery_codes(self, meta: EventMeta) -> None:
        """Record that new recovery codes replaced the old ones.

        Raises:
            RuleViolationError: ``account.not_active``,
                ``account.mfa_not_enrolled``.
        """
        self._check_status(AccountStatus.ACTIVE, "account.not_active")
        self._check_mfa_enrolled()
        self.trigger_event(self.RecoveryCodesRegenerated, meta=meta)

    def _check_mfa_enrolled(self) -> None:
        if not self.mfa_enrolled:
            raise self._refuse("account.mfa_not_enrolled", "has no second factor")

    def record_login_succeeded(
        self, meta: EventMeta, method: str, address: str | None, session_id: UUID
    ) -> None:
        """Record a login with ``method`` from ``address`` starting
        ``session_id``.

        Raises:
            InvalidValueError: unknown method, over-long address.
            RuleViolationError: ``account.not_active``.
        """
        how = enum_value(LoginMethod, method, "method")
        where = valid_address(address)
        self._check_status(AccountStatus.ACTIVE, "account.not_active")
        self.trigger_event(
            self.LoginSucceeded,
            meta=meta,
            method=how.value,
            address=where,
            session_id=session_id,
        )

    def record_login_failed(
        self, meta: EventMeta, reason: str, address: str | None
    ) -> None:
        """Record a failed login attempt (in any status).

        Raises:
            InvalidValueError: unknown reason, over-long address.
        """
        why = enum_value(LoginFailureReason, reason, "reason")
        self.trigger_event(
            self.LoginFailed,
            meta=meta,
            reason=why.value,
            address=valid_address(address),
        )

    def record_mfa_challenged(self, meta: EventMeta, address: str | None) -> None:
        """Record that the password step passed and a second factor is asked.

        Raises:
            RuleViolationError: the account is not active (``account.not_active``).
            InvalidValueError: over-long address.
        """
        if not self.is_active:
            raise self._refuse("account.not_active", "is not active")
        self.trigger_event(
            self.MfaChallenged, meta=meta, address=valid_address(address)
        )

    def record_locked_out(
        self, meta: EventMeta, stage: str, until: datetime, address: str | None
    ) -> None:
        """Record that login ``stage`` is locked until ``until`` (any status).

        Raises:
            InvalidValueError: unknown stage, naive ``until``, over-long address.
        """
        step = enum_value(LockoutStage, stage, "stage")
        self.trigger_event(
            self.LockedOut,
            meta=meta,
            stage=step.value,
            until=utc_time(until, "until"),
            address=valid_address(address),
        )

    def record_logout(self, meta: EventMeta, session_id: UUID) -> None:
        """Record that session ``session_id`` ended (in any status)."""
        self.trigger_event(self.LoggedOut, meta=meta, session_id=session_id)

    def record_sessions_revoked(self, meta: EventMeta, reason: str) -> None:
        """Record that every session ended, for ``reason`` (in any status;
        see :class:`~domain.account_values.SessionRevocationReason`).

        Raises:
            InvalidValueError: ``reason`` is not a snake_case code.
        """
        self.trigger_event(
            self.SessionsRevoked, meta=meta, reason=valid_revocation_reason(reason)
        )
