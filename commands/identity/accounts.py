"""Commands on accounts: invitations, roles, deactivation, passwords.

Each writes through :class:`~commands.identity.account_writer.AccountWriter`
(events, side records and the account row in one append).

Anonymous commands (accepting an invitation, asking for and using a password
reset link) are called without a caller: they take the request id as
``correlation_id`` and record the account itself as actor once a token proves
who is acting, ``anonymous`` before that.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from commands.context import Accepted, CommandContext
from commands.identity.account_writer import (
    ANONYMOUS,
    AccountWriter,
    Decision,
    account_saved,
    anonymous_context,
    commit_invitation,
    recipient,
    tenant_name,
)
from commands.identity.attempts import guarded_check
from commands.identity.crypto import BearerSecrets, Clock, LoginGuard, Passwords
from commands.identity.errors import (
    InvalidOneTimeTokenError,
    WrongPasswordError,
)
from commands.identity.mail import INVITATION, PASSWORD_RESET, OneTimeLinks
from commands.identity.ports import (
    AccountRecord,
    IdentityDirectory,
    IdentityRecord,
    OneTimeTokenRecord,
    OneTimeTokensRevoked,
    OneTimeTokenUsed,
    PasswordHashSet,
    PersonErased,
    SessionsRevoked,
    SideRecordRefusedError,
    TotpCleared,
)
from commands.ports import EventStore
from domain.access import Permission, authorize
from domain.account import Account
from domain.account_values import valid_email
from domain.errors import InvalidValueError, NotFoundError, RuleViolationError
from domain.principal import Principal, Role

INVITATION_TTL = timedelta(hours=72)
RESET_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class Invite:
    email: str
    name: str
    roles: Collection[str]
    """Role values."""
    organization_ids: Collection[UUID] = ()


@dataclass(frozen=True)
class AcceptInvitation:
    token: str
    password: str


@dataclass(frozen=True)
class ResetPassword:
    token: str
    new_password: str


@dataclass(frozen=True)
class ChangePassword:
    current_password: str
    new_password: str


class AccountService:
    """Application service whose methods are the account commands.

    Args:
        store: The event store.
        directory: The identity side tables.
        passwords: Hashes and judges passwords.
        secrets: Mints the one-time tokens.
        clock: The present.
        public_base_url: Base of the links in e-mails.
        invitation_ttl: How long an invitation can be accepted.
        reset_ttl: How long a password reset link works.
    """

    def __init__(
        self,
        store: EventStore,
        directory: IdentityDirectory,
        passwords: Passwords,
        secrets: BearerSecrets,
        clock: Clock,
        public_base_url: str,
        invitation_ttl: timedelta = INVITATION_TTL,
        reset_ttl: timedelta = RESET_TTL,
        *,
        guard: LoginGuard,
    ) -> None:
        self._store = store
        self._guard = guard
        self._writer = AccountWriter(store)
        self._directory = directory
        self._passwords = passwords
        self._secrets = secrets
        self._clock = clock
        self._links = OneTimeLinks(secrets, public_base_url)
        self._invitation_ttl = invitation_ttl
        self._reset_ttl = reset_ttl

    # --- tenant administrators ---------------------------------------------

    def invite(self, ctx: CommandContext, cmd: Invite) -> Accepted:
        """Invite a person to the caller's tenant; the e-mail with the
        single-use link goes out with the event.

        Raises:
            RuleViolationError: ``account.email_taken`` or a role rule.
            InvalidValueError: bad e-mail, name or roles.
        """
        handler = self._writer.handler
        authorize(ctx.principal, Permission.USER_MANAGE)
        replay = handler.replay(ctx)
        if replay is not None:
            return replay[0]
        expires_at = self._clock.now() + self._invitation_ttl
        account = Account.invite(
            ctx.meta(), cmd.email, cmd.name, cmd.roles, cmd.organization_ids, expires_at
        )
        to = recipient(account, tenant_name(self._store, account.tenant_id))
        records = (account_saved(account), *self._links.invitation(to, expires_at))
        return commit_invitation(handler, ctx, account, records)

    def reissue_invitation(
        self, ctx: CommandContext, account_id: UUID, expected_version: int | None = None
    ) -> Accepted:
        """Send a new invitation link; earlier links stop working."""

        def decide(account: Account) -> Sequence[IdentityRecord]:
            expires_at = self._clock.now() + self._invitation_ttl
            account.reissue_invitation(ctx.meta(), expires_at)
            to = recipient(account, tenant_name(self._store, account.tenant_id))
            return self._links.invitation(to, expires_at)

        return self._manage(ctx, account_id, expected_version, decide)

    def set_roles(
        self,
        ctx: CommandContext,
        account_id: UUID,
        roles: Collection[str],
        organization_ids: Collection[UUID] = (),
        expected_version: int | None = None,
    ) -> Accepted:
        """Give the account exactly these roles and client organizations;
        the change applies from the account's next request."""

        def decide(account: Account) -> Sequence[IdentityRecord]:
            if Role.TENANT_ADMIN.value not in roles:
                self._keep_an_administrator(account)
            account.set_roles(ctx.meta(), roles, organization_ids)
            return ()

        return self._manage(ctx, account_id, expected_version, decide)

    def deactivate(
        self, ctx: CommandContext, account_id: UUID, expected_version: int | None = None
    ) -> Accepted:
        """Stop the account: its sessions and unused links end at once."""

        def decide(account: Account) -> Sequence[IdentityRecord]:
            account.deactivate(ctx.meta())
            account.record_sessions_revoked(ctx.meta(), "deactivated")
            return (SessionsRevoked(account.id), OneTimeTokensRevoked(account.id))

        return self._manage(ctx, account_id, expected_version, decide)

    def reactivate(
        self, ctx: CommandContext, account_id: UUID, expected_version: int | None = None
    ) -> Accepted:
        """Let a deactivated account back in."""

        def decide(account: Account) -> Sequence[IdentityRecord]:
            account.reactivate(ctx.meta())
            return ()

        return self._manage(ctx, account_id, expected_version, decide)

    def reset_mfa(
        self, ctx: CommandContext, account_id: UUID, expected_version: int | None = None
    ) -> Accepted:
        """Remove the account's second factor (lost phone): its sessions end
        and the person enrolls again."""

        def decide(account: Account) -> Sequence[IdentityRecord]:
            account.reset_mfa(ctx.meta())
            account.record_sessions_revoked(ctx.meta(), "mfa_reset")
            return (TotpCleared(account.id), SessionsRevoked(account.id))

        return self._manage(ctx, account_id, expected_version, decide)

    def set_legal_hold(
        self,
        ctx: CommandContext,
        account_id: UUID,
        reason: str,
        expected_version: int | None = None,
    ) -> Accepted:
        """Put the person's data on legal hold: erasing them is refused until
        the hold is cleared."""

        def decide(account: Account) -> Sequence[IdentityRecord]:
            account.set_legal_hold(ctx.meta(), reason)
            return ()

        return self._manage(ctx, account_id, expected_version, decide)

    def clear_legal_hold(
        self, ctx: CommandContext, account_id: UUID, expected_version: int | None = None
    ) -> Accepted:
        """End the person's legal hold."""

        def decide(account: Account) -> Sequence[IdentityRecord]:
            account.clear_legal_hold(ctx.meta())
            return ()

        return self._manage(ctx, account_id, expected_version, decide)

    def erase(
        self, ctx: CommandContext, account_id: UUID, expected_version: int | None = None
    ) -> Accepted:
        """Erase the person (GDPR Art. 17) unless a legal hold applies: their
        data key is destroyed with the erasure event, so every personal field
        of their events reads ``[erased]`` from then on; the account stops,
        its sessions and links end, its e-mail is free again and its e-mails
        in the outbox are blanked.

        Raises:
            RuleViolationError: ``account.legal_hold``, ``account.erased``,
                ``account.cannot_erase_self``, ``account.last_tenant_admin``.
        """

        def decide(account: Account) -> Sequence[IdentityRecord]:
            email, admin = account.email, account.is_active
            account.erase(ctx.meta())
            if admin and Role.TENANT_ADMIN in account.roles:
                self._keep_an_administrator(account)
            return (
                PersonErased(account.id, account.tenant_id, email),
                SessionsRevoked(account.id),
                OneTimeTokensRevoked(account.id),
            )

        return self._manage(ctx, account_id, expected_version, decide)

    def _keep_an_administrator(self, account: Account) -> None:
        """Refuse to leave the tenant without an active tenant administrator
        (nobody could then manage its people).

        Raises:
            RuleViolationError: ``account.last_tenant_admin``.
        """
        admins = self._directory.tenant_admins(account.tenant_id)
        if admins == {account.id}:
            raise RuleViolationError(
                "account.last_tenant_admin",
                f"account {account.id} is the last active tenant administrator "
                f"of {account.tenant_id}; make someone else one first",
            )

    def _manage(
        self,
        ctx: CommandContext,
        account_id: UUID,
        expected_version: int | None,
        decide: Decision,
    ) -> Accepted:
        return self._writer.change(
            ctx,
            account_id,
            decide,
            permission=Permission.USER_MANAGE,
            expected_version=expected_version,
        )

    # --- the account's owner -------------------------------------------------

    def me(self, ctx: CommandContext) -> AccountRecord:
        """The caller's own account as it stands now (no credentials are
        meant to leave: callers show only the public fields).

        Raises:
            NotFoundError: the caller is not a person (an API token).
        """
        authorize(ctx.principal, Permission.SELF_SERVICE)
        account_id = _own_account_id(ctx.principal)
        record = self._directory.account(account_id)
        if record is None or record.tenant_id != ctx.principal.tenant_id:
            raise NotFoundError("account", account_id)
        return record

    def change_password(self, ctx: CommandContext, cmd: ChangePassword) -> Accepted:
        """Change the caller's password; every session (this one too) ends.

        Raises:
            WrongPasswordError: ``cmd.current_password`` is not correct.
            InvalidValueError: the new password is too weak.
        """
        authorize(ctx.principal, Permission.SELF_SERVICE)
        account_id = _own_account_id(ctx.principal)
        record = self._directory.account(account_id)
        if record is None or record.tenant_id != ctx.principal.tenant_id:
            raise NotFoundError("account", account_id)
        self._check_current(record, cmd.current_password)

        def decide(account: Account) -> Sequence[IdentityRecord]:
            self._check_strength(cmd.new_password, account)
            account.change_password(ctx.meta(), "changed")
            account.record_sessions_revoked(ctx.meta(), "password_changed")
            return self._password_records(account, cmd.new_password)

        return self._writer.change(ctx, account_id, decide)

    # --- anonymous -----------------------------------------------------------

    def accept_invitation(self, cmd: AcceptInvitation, correlation_id: str) -> Accepted:
        """Activate the invited account with its first password.

        Raises:
            InvalidOneTimeTokenError: the token is unknown, used, expired or
                the account is no longer invited (never says which).
            InvalidValueError: the password is too weak (``password``).
        """
        now = self._clock.now()
        token = self._usable_token(cmd.token, INVITATION)
        ctx = anonymous_context(token.tenant_id, str(token.account_id), correlation_id)

        def decide(account: Account) -> Sequence[IdentityRecord]:
            self._check_strength(cmd.password, account)
            try:
                account.activate(ctx.meta(), now)
            except RuleViolationError as e:  # no longer invited, or expired
                raise InvalidOneTimeTokenError() from e
            return (
                OneTimeTokenUsed(token.digest, INVITATION, now),
                PasswordHashSet(account.id, self._passwords.hash(cmd.password)),
            )

        return self._spend(ctx, token, decide)

    def request_password_reset(
        self, tenant_id: str, email: str, correlation_id: str
    ) -> None:
        """E-mail a reset link to the tenant's active account with ``email``.

        Answers the same whether or not such an account exists: an unknown
        or inactive account gets nothing and nothing is written.

        Raises:
            InvalidValueError: not an e-mail address (``email``), which no
                account has.
        """
        record = self._directory.account_by_email(tenant_id, valid_email(email))
        if record is None or record.status != "active":
            return
        ctx = anonymous_context(record.tenant_id, ANONYMOUS, correlation_id)

        def decide(account: Account) -> Sequence[IdentityRecord]:
            expires_at = self._clock.now() + self._reset_ttl
            account.request_password_reset(ctx.meta(), expires_at)
            to = recipient(account, tenant_name(self._store, account.tenant_id))
            return self._links.password_reset(to, expires_at)

        self._writer.change(ctx, record.account_id, decide)

    def reset_password(self, cmd: ResetPassword, correlation_id: str) -> Accepted:
        """Set a new password with a reset link; every session ends and the
        account's other reset links stop working.

        Raises:
            InvalidOneTimeTokenError: the token is unknown, used or expired,
                or the account is no longer active.
            InvalidValueError: the password is too weak (``password``).
        """
        now = self._clock.now()
        token = self._usable_token(cmd.token, PASSWORD_RESET)
        ctx = anonymous_context(token.tenant_id, str(token.account_id), correlation_id)

        def decide(account: Account) -> Sequence[IdentityRecord]:
            if not account.is_active:
                raise InvalidOneTimeTokenError()
            self._check_strength(cmd.new_password, account)
            account.change_password(ctx.meta(), "reset")
            account.record_sessions_revoked(ctx.meta(), "password_reset")
            return (
                OneTimeTokenUsed(token.digest, PASSWORD_RESET, now),
                *self._password_records(account, cmd.new_password),
            )

        return self._spend(ctx, token, decide)

    # --- shared --------------------------------------------------------------

    def _usable_token(self, token: str, purpose: str) -> OneTimeTokenRecord:
        record = self._directory.one_time_token(self._secrets.digest(token))
        if (
            record is None
            or record.purpose != purpose
            or record.used_at is not None
            or record.revoked
            or record.expires_at <= self._clock.now()
        ):
            raise InvalidOneTimeTokenError()
        return record

    def _spend(
        self, ctx: CommandContext, token: OneTimeTokenRecord, decide: Decision
    ) -> Accepted:
        try:
            return self._writer.change(ctx, token.account_id, decide)
        except SideRecordRefusedError as e:  # spent by a concurrent request
            raise InvalidOneTimeTokenError() from e

    def _check_strength(self, password: str, account: Account) -> None:
        reason = self._passwords.weakness(password, account.email, account.name)
        if reason is not None:
            raise InvalidValueError("password", reason)

    def _check_current(self, record: AccountRecord, password: str) -> None:
        """Check the caller's current password like a login: one attempt at
        a time, counted toward the account's login lockout.

        Raises:
            LockedOutError: the account's logins are locked (or being tried).
            WrongPasswordError: the password is not correct.
        """
        current = record.password_hash

        def right() -> bool | None:
            if current is None or not self._passwords.verify(current, password):
                return None
            return True

        key = f"login:acct:{record.tenant_id}:{record.email}"
        guarded_check(self._guard, key, right, WrongPasswordError)

    def _password_records(
        self, account: Account, password: str
    ) -> tuple[IdentityRecord, ...]:
        return (
            PasswordHashSet(account.id, self._passwords.hash(password)),
            SessionsRevoked(account.id),
            # reset links, and a login's pending second step, stop working
            OneTimeTokensRevoked(account.id, None),
        )


def _own_account_id(principal: Principal) -> UUID:
    """The caller's account id (a person's actor id is their account id)."""
    try:
        return UUID(principal.actor_id)
    except ValueError:
        raise NotFoundError("account", principal.actor_id) from None
