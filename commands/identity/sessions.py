"""Login sessions: password (and second factor) in, token pair out.

Login never tells an attacker which e-mail addresses have accounts: an
unknown address, a wrong password and an inactive account all end in the
same :class:`~commands.identity.errors.LoginRefusedError`, and each spends
one password verification (``verify_absent`` when there is no account).
Failures are counted per account and per client address by the
:class:`~commands.identity.crypto.LoginGuard`; a locked-out key is refused
before any password is checked. Every outcome on an existing account is
recorded as a security event on it (``account.login_failed``,
``account.locked_out``, ``account.login_succeeded``).

A session holds one rotating refresh token (stored by digest); presenting a
token that was already rotated away revokes the session, since two parties
hold it. Logout ends the session at once (the edge checks the session on
every request).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn
from uuid import UUID, uuid4

from commands.context import Accepted, CommandContext
from commands.identity.account_writer import (
    ANONYMOUS,
    AccountWriter,
    anonymous_context,
)
from commands.identity.attempts import one_attempt
from commands.identity.crypto import (
    AccessTokenIssuer,
    BearerSecrets,
    Clock,
    LoginGuard,
    Passwords,
    RecoveryCodeBook,
    TotpEngine,
)
from commands.identity.errors import (
    InvalidOtpError,
    LockedOutError,
    LoginRefusedError,
    RefreshRefusedError,
)
from commands.identity.mail import MFA_LOGIN
from commands.identity.ports import (
    AccountRecord,
    IdentityDirectory,
    IdentityRecord,
    OneTimeTokenIssued,
    OneTimeTokenUsed,
    RecoveryCodeSpent,
    SessionRecord,
    SessionsRevoked,
    SessionStarted,
    SideRecordRefusedError,
    TotpStepUsed,
)
from commands.ports import EventStore
from domain.access import Permission, authorize
from domain.account import Account
from domain.account_values import valid_email
from domain.errors import NotFoundError, RuleViolationError
from domain.principal import Role
from domain.tenant_settings import TenantSettings, settings_id

REFRESH_TTL = timedelta(days=14)
MFA_TOKEN_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class LoginAttempt:
    tenant_id: str
    email: str
    password: str
    address: str | None = None
    """The client's address (for rate limits and the security event)."""


@dataclass(frozen=True)
class MfaAttempt:
    """The second login step: a TOTP ``code`` or a ``recovery_code``."""

    mfa_token: str
    code: str | None = None
    recovery_code: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class TokenPair:
    """What a login or refresh gives the client.

    Attributes:
        expires_in: Seconds the access token lives.
        refresh_expires_in: Seconds until the session ends, whatever the
            rotations.
        mfa_enrollment_required: The tenant requires a second factor the
            account has not enrolled: the tokens allow only enrollment.
    """

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: UUID
    mfa_enrollment_required: bool = False
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name


@dataclass(frozen=True)
class MfaChallenge:
    """The password was right; send ``mfa_token`` with a code within
    ``expires_in`` seconds."""

    mfa_token: str
    expires_in: int
    methods: tuple[str, ...] = ("totp", "recovery_code")


def _keys(kind: str, account_key: str, address: str | None) -> list[str]:
    """Guard keys: the account's first (the one a success clears)."""
    keys = [f"{kind}:acct:{account_key}"]
    if address:
        keys.append(f"{kind}:addr:{address}")
    return keys


class SessionService:
    """Application service for logging in and out and refreshing tokens.

    Args:
        store: The event store.
        directory: The identity side tables.
        passwords: Checks passwords.
        secrets: Mints refresh and MFA-step tokens.
        issuer: Signs access tokens.
        totp: Checks TOTP codes.
        recovery: Hashes recovery codes.
        guard: Counts failures and locks out.
        clock: The present.
        refresh_ttl: Lifetime of a session (its refresh tokens).
        mfa_token_ttl: Time allowed for the second login step.
    """

    def __init__(
        self,
        store: EventStore,
        directory: IdentityDirectory,
        passwords: Passwords,
        secrets: BearerSecrets,
        issuer: AccessTokenIssuer,
        totp: TotpEngine,
        recovery: RecoveryCodeBook,
        guard: LoginGuard,
        clock: Clock,
        refresh_ttl: timedelta = REFRESH_TTL,
        mfa_token_ttl: timedelta = MFA_TOKEN_TTL,
    ) -> None:
        self._store = store
        self._writer = AccountWriter(store)
        self._directory = directory
        self._passwords = passwords
        self._secrets = secrets
        self._issuer = issuer
        self._totp = totp
        self._recovery = recovery
        self._guard = guard
        self._clock = clock
        self._refresh_ttl = refresh_ttl
        self._mfa_ttl = mfa_token_ttl

    def login(
        self, attempt: LoginAttempt, correlation_id: str
    ) -> TokenPair | MfaChallenge:
        """Check the password; start a session, or ask for the second factor
        if the account has one.

        Raises:
            InvalidValueError: not an e-mail address (``email``), which no
                account has; nothing is counted or looked up.
            LockedOutError: too many failures (also raised by the failure
                that starts the lockout).
            LoginRefusedError: unknown e-mail, wrong password, inactive.
        """
        email = valid_email(attempt.email)
        keys = _keys("login", f"{attempt.tenant_id}:{email}", attempt.address)
        with one_attempt(self._guard, keys[0]):
            return self._login(attempt, email, keys, correlation_id)

    def _login(
        self,
        attempt: LoginAttempt,
        email: str,
        keys: list[str],
        correlation_id: str,
    ) -> TokenPair | MfaChallenge:
        wait = self._guard.blocked(keys)
        if wait is not None:
            raise LockedOutError(wait)
        record = self._directory.account_by_email(attempt.tenant_id, email)
        if record is None or record.password_hash is None:
            self._passwords.verify_absent(attempt.password)
            lock = self._guard.failed(keys)
            raise LockedOutError(lock) if lock is not None else LoginRefusedError()
        if not self._passwords.verify(record.password_hash, attempt.password):
            self._refuse(record, "bad_password", keys, attempt.address, correlation_id)
        if record.status != "active":
            self._refuse(record, "not_active", keys, attempt.address, correlation_id)
        self._guard.succeeded(keys[:1])
        if record.mfa_enrolled:
            return self._challenge(record, attempt.address, correlation_id)
        return self._start(record, "password", attempt.address, correlation_id)

    def verify_mfa(self, attempt: MfaAttempt, correlation_id: str) -> TokenPair:
        """The second login step: a TOTP code (each accepted once) or a
        recovery code (each usable once).

        Raises:
            LoginRefusedError: the MFA token is unknown, used or expired, or
                the account can no longer log in (log in again).
            LockedOutError: too many failed codes.
            InvalidOtpError: the code was refused (the token stays usable).
        """
        now = self._clock.now()
        digest = self._secrets.digest(attempt.mfa_token)
        token = self._directory.one_time_token(digest)
        if (
            token is None
            or token.purpose != MFA_LOGIN
            or token.used_at is not None
            or token.revoked
            or token.expires_at <= now
        ):
            raise LoginRefusedError()
        record = self._directory.account(token.account_id)
        if record is None or record.status != "active" or not record.mfa_enrolled:
            raise LoginRefusedError()
        keys = _keys("otp", str(record.account_id), attempt.address)
        with one_attempt(self._guard, keys[0]):
            return self._second_step(attempt, record, keys, digest, correlation_id)

    def _second_step(
        self,
        attempt: MfaAttempt,
        record: AccountRecord,
        keys: list[str],
        digest: str,
        correlation_id: str,
    ) -> TokenPair:
        now = self._clock.now()
        wait = self._guard.blocked(keys)
        if wait is not None:
            raise LockedOutError(wait)
        method, proof = self._second_factor(record, attempt, now.timestamp())
        if proof is None:
            reason = "bad_recovery_code" if method == "recovery_code" else "bad_otp"
            self._refuse(
                record, reason, keys, attempt.address, correlation_id, stage="otp"
            )
        self._guard.succeeded(keys[:1])
        spent = (OneTimeTokenUsed(digest, MFA_LOGIN, now), proof)
        try:
            return self._start(
                record, method, attempt.address, correlation_id, spent=spent
            )
        except SideRecordRefusedError as e:  # a concurrent request won
            if isinstance(e.record, OneTimeTokenUsed):
                raise LoginRefusedError() from e
            raise InvalidOtpError() from e

    def refresh(self, refresh_token: str, correlation_id: str) -> TokenPair:
        """Exchange the session's current refresh token for a new pair.

        A token already rotated away revokes the session (recorded as
        ``account.sessions_revoked``, reason ``refresh_token_reused``).

        Raises:
            RefreshRefusedError: unknown, reused, revoked or expired token, or
                the account can no longer log in.
        """
        now = self._clock.now()
        token, new_digest = self._secrets.mint("ah_rt_")
        presented = self._secrets.digest(refresh_token)
        rotation = self._directory.rotate_refresh(presented, new_digest, now)
        session = rotation.session
        if rotation.outcome == "reused" and session is not None:
            self._record_reuse(session, correlation_id)
        if rotation.outcome != "rotated" or session is None:
            raise RefreshRefusedError()
        record = self._directory.account(session.account_id)
        if (
            record is None
            or record.status != "active"
            or record.tenant_id != session.tenant_id
        ):
            raise RefreshRefusedError()
        left = int((session.expires_at - now).total_seconds())
        pending = session.mfa_enrollment_pending or (
            not record.mfa_enrolled and self._mfa_required(record)
        )
        return self._pair(record, session.session_id, token, left, pending)

    def logout(self, ctx: CommandContext) -> Accepted:
        """End the caller's session now (``account.logged_out``).

        Raises:
            NotFoundError: the caller has no login session (an API token).
        """
        authorize(ctx.principal, Permission.SELF_SERVICE)
        session = self._own_session(ctx)

        def decide(account: Account) -> Sequence[IdentityRecord]:
            account.record_logout(ctx.meta(), session.session_id)
            return (SessionsRevoked(account.id, session.session_id),)

        return self._writer.change(ctx, session.account_id, decide)

    # --- steps -----------------------------------------------------------------

    def _refuse(
        self,
        record: AccountRecord,
        reason: str,
        keys: list[str],
        address: str | None,
        correlation_id: str,
        *,
        stage: str = "password",
    ) -> NoReturn:
        """Count the failure, record it (and a lockout it starts), refuse."""
        lock = self._guard.failed(keys)
        until = self._clock.now() + timedelta(seconds=lock or 0)
        ctx = anonymous_context(record.tenant_id, ANONYMOUS, correlation_id)

        def decide(account: Account) -> Sequence[IdentityRecord]:
            account.record_login_failed(ctx.meta(), reason, address)
            if lock is not None:
                account.record_locked_out(ctx.meta(), stage, until, address)
            return ()

        self._writer.change(ctx, record.account_id, decide)
        if lock is not None:
            raise LockedOutError(lock)
        raise InvalidOtpError() if stage == "otp" else LoginRefusedError()

    def _second_factor(
        self, record: AccountRecord, attempt: MfaAttempt, now: float
    ) -> tuple[str, IdentityRecord | None]:
        """The login method and the record spending the factor, or ``None``
        for the record if the code is refused."""
        if attempt.recovery_code:
            code_hash = self._recovery.hash(attempt.recovery_code)
            if code_hash not in record.recovery_hashes:
                return "recovery_code", None
            return "recovery_code", RecoveryCodeSpent(record.account_id, code_hash)
        if record.totp_secret is None or not attempt.code:
            return "totp", None
        secret = self._totp.decrypt(record.totp_secret, record.account_id)
        step = self._totp.verify(secret, attempt.code, now, record.totp_last_step)
        if step is None:
            return "totp", None
        return "totp", TotpStepUsed(record.account_id, step)

    def _challenge(
        self, record: AccountRecord, address: str | None, correlation_id: str
    ) -> MfaChallenge:
        """Store a short-lived token for the second step."""
        token, digest = self._secrets.mint("ah_mfa_")
        expires_at = self._clock.now() + self._mfa_ttl
        issued = OneTimeTokenIssued(
            digest, MFA_LOGIN, record.tenant_id, record.account_id, expires_at
        )
        ctx = anonymous_context(
            record.tenant_id, str(record.account_id), correlation_id
        )

        def decide(account: Account) -> Sequence[IdentityRecord]:
            try:
                account.record_mfa_challenged(ctx.meta(), address)
            except RuleViolationError as e:  # deactivated meanwhile
                raise LoginRefusedError() from e
            return (issued,)

        self._writer.change(ctx, record.account_id, decide)
        return MfaChallenge(token, int(self._mfa_ttl.total_seconds()))

    def _start(
        self,
        record: AccountRecord,
        method: str,
        address: str | None,
        correlation_id: str,
        *,
        spent: Sequence[IdentityRecord] = (),
    ) -> TokenPair:
        """Start a session: ``account.login_succeeded`` with its first
        refresh token, and the access token."""
        now = self._clock.now()
        session_id = uuid4()
        token, digest = self._secrets.mint("ah_rt_")
        pending = not record.mfa_enrolled and self._mfa_required(record)
        ctx = anonymous_context(
            record.tenant_id, str(record.account_id), correlation_id
        )
        started = SessionStarted(
            session_id,
            record.tenant_id,
            record.account_id,
            digest,
            now + self._refresh_ttl,
            pending,
        )

        def decide(account: Account) -> Sequence[IdentityRecord]:
            try:
                account.record_login_succeeded(ctx.meta(), method, address, session_id)
            except RuleViolationError as e:  # deactivated meanwhile
                raise LoginRefusedError() from e
            return (*spent, started)

        self._writer.change(ctx, record.account_id, decide)
        left = int(self._refresh_ttl.total_seconds())
        return self._pair(record, session_id, token, left, pending)

    def _pair(
        self,
        record: AccountRecord,
        session_id: UUID,
        refresh_token: str,
        refresh_left: int,
        pending: bool,
    ) -> TokenPair:
        access = self._issuer.issue(
            str(record.account_id), record.tenant_id, str(session_id), record.roles
        )
        return TokenPair(
            access_token=access,
            expires_in=self._issuer.ttl_seconds,
            refresh_token=refresh_token,
            refresh_expires_in=refresh_left,
            session_id=session_id,
            mfa_enrollment_required=pending,
        )

    def _mfa_required(self, record: AccountRecord) -> bool:
        settings = self._store.load(TenantSettings, settings_id(record.tenant_id))
        roles = frozenset(Role(r) for r in record.roles)
        return settings is not None and settings.mfa_required(roles)

    def _record_reuse(self, session: SessionRecord, correlation_id: str) -> None:
        ctx = anonymous_context(session.tenant_id, ANONYMOUS, correlation_id)

        def decide(account: Account) -> Sequence[IdentityRecord]:
            account.record_sessions_revoked(ctx.meta(), "refresh_token_reused")
            return (SessionsRevoked(account.id, session.session_id),)

        self._writer.change(ctx, session.account_id, decide)

    def _own_session(self, ctx: CommandContext) -> SessionRecord:
        principal = ctx.principal
        try:
            session_id = UUID(principal.session_id or "")
        except ValueError:
            raise NotFoundError(
                "login session", "of this caller (API tokens have none)"
            ) from None
        session = self._directory.session(session_id)
        if (
            session is None
            or str(session.account_id) != principal.actor_id
            or session.tenant_id != principal.tenant_id
        ):
            raise NotFoundError("session", session_id)
        return session
