"""Ports of the identity services; adapters live in ``infra``.

Two kinds of state sit beside the identity events:

* **side records** (:class:`IdentityRecord` subclasses) written by the event
  store in the very transaction that appends the events causing them, so an
  invitation's token, the e-mail announcing it and the ``account.invited``
  event exist together or not at all. A conditional record (a one-time token
  or recovery code spent, a TOTP step used) that finds its condition false
  fails the whole append with :class:`SideRecordRefusedError`: of two
  concurrent requests spending the same secret, one wins.
* **operational state** the directory reads and updates on its own (login
  sessions and their refresh-token rotation, a pending TOTP enrollment, an API
  token's last use): it changes on every request and is not history.

The account row (:class:`AccountRecord`) is a command-side copy of what the
edge needs on every request (status, roles, scopes, MFA), kept current by an
:class:`AccountSaved` record with each account event, so deactivating an
account or revoking a role takes effect on the caller's next request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from commands.errors import CommandError
from domain.principal import Principal


class SideRecordRefusedError(CommandError):
    """A conditional side record found its condition false (a one-time token
    already used or expired, a recovery code already spent): nothing of the
    command was written."""

    def __init__(self, record: IdentityRecord) -> None:
        super().__init__(f"{type(record).__name__} refused")
        self.record = record


# --- side records, written with the events -------------------------------


class IdentityRecord:
    """Base of the identity side records."""


@dataclass(frozen=True)
class AccountSaved(IdentityRecord):
    """Upsert of the account row (everything but credentials)."""

    account_id: UUID
    tenant_id: str
    email: str
    name: str
    status: str
    """``invited``, ``active`` or ``deactivated``."""
    roles: tuple[str, ...]
    organization_ids: tuple[UUID, ...]
    mfa_enrolled: bool


@dataclass(frozen=True)
class PasswordHashSet(IdentityRecord):
    account_id: UUID
    password_hash: str


@dataclass(frozen=True)
class OneTimeTokenIssued(IdentityRecord):
    """A single-use token (invitation, password reset, MFA login step) stored
    by digest. Issuing one revokes the account's unused tokens of the same
    purpose."""

    digest: str
    purpose: str
    """``invitation``, ``password_reset`` or ``mfa_login``."""
    tenant_id: str
    account_id: UUID
    expires_at: datetime


@dataclass(frozen=True)
class OneTimeTokenUsed(IdentityRecord):
    """Spend a token: refused unless it exists with this purpose, unused and
    unexpired at ``now``."""

    digest: str
    purpose: str
    now: datetime


@dataclass(frozen=True)
class OneTimeTokensRevoked(IdentityRecord):
    """Every unused token of ``purpose`` (all purposes if ``None``) of the
    account becomes unusable."""

    account_id: UUID
    purpose: str | None = None


@dataclass(frozen=True)
class OutboxMessage(IdentityRecord):
    """An e-mail to send once the transaction commits."""

    message_id: UUID
    tenant_id: str
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True)
class PersonErased(IdentityRecord):
    """Erasure: the person's data key destroyed (a tombstone stays), their
    e-mail claim released and their e-mails in the outbox blanked (pending
    ones given up), in the erasure event's transaction."""

    account_id: UUID
    tenant_id: str
    email: str
    """The e-mail as it was, to find the claim and the messages by."""


@dataclass(frozen=True)
class SessionStarted(IdentityRecord):
    """A login session (its first refresh token, by digest)."""

    session_id: UUID
    tenant_id: str
    account_id: UUID
    refresh_digest: str
    expires_at: datetime
    mfa_enrollment_pending: bool


@dataclass(frozen=True)
class SessionsRevoked(IdentityRecord):
    """Revoke one session (``session_id``) or every session of the account."""

    account_id: UUID
    session_id: UUID | None = None


@dataclass(frozen=True)
class TotpActivated(IdentityRecord):
    """The confirmed TOTP secret (encrypted), its first used step, and the
    recovery-code hashes; replaces any earlier ones and clears the pending
    enrollment."""

    account_id: UUID
    secret: bytes
    used_step: int
    recovery_hashes: tuple[str, ...]


@dataclass(frozen=True)
class TotpCleared(IdentityRecord):
    """MFA reset: secret, pending enrollment and recovery codes removed."""

    account_id: UUID


@dataclass(frozen=True)
class TotpStepUsed(IdentityRecord):
    """Refused unless ``step`` is after the last used step (replay)."""

    account_id: UUID
    step: int


@dataclass(frozen=True)
class RecoveryCodesReplaced(IdentityRecord):
    account_id: UUID
    recovery_hashes: tuple[str, ...]


@dataclass(frozen=True)
class RecoveryCodeSpent(IdentityRecord):
    """Refused unless ``code_hash`` is among the remaining codes."""

    account_id: UUID
    code_hash: str


@dataclass(frozen=True)
class ApiTokenStored(IdentityRecord):
    token_id: UUID
    tenant_id: str
    digest: str
    name: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    expires_at: datetime | None
    prefix: str = ""
    """The token's first characters, to recognise it in lists."""


@dataclass(frozen=True)
class ApiTokenRevoked(IdentityRecord):
    token_id: UUID


# --- what the directory answers --------------------------------------------


@dataclass(frozen=True)
class AccountRecord:
    """An account as the command side keeps it, with its credentials."""

    account_id: UUID
    tenant_id: str
    email: str
    name: str
    status: str
    roles: tuple[str, ...]
    organization_ids: tuple[UUID, ...]
    mfa_enrolled: bool
    password_hash: str | None
    totp_secret: bytes | None
    totp_last_step: int | None
    totp_pending: bytes | None
    recovery_hashes: tuple[str, ...]


@dataclass(frozen=True)
class OneTimeTokenRecord:
    digest: str
    purpose: str
    tenant_id: str
    account_id: UUID
    expires_at: datetime
    used_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class SessionRecord:
    """A login session and what the edge needs to build the caller."""

    session_id: UUID
    tenant_id: str
    account_id: UUID
    expires_at: datetime
    revoked_at: datetime | None
    mfa_enrollment_pending: bool


@dataclass(frozen=True)
class ApiTokenRecord:
    token_id: UUID
    tenant_id: str
    name: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    prefix: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class Rotation:
    """Outcome of presenting a refresh token.

    ``outcome`` is ``rotated`` (``session`` holds, ``new_digest`` replaced the
    presented one), ``reused`` (an already-rotated token: the session was
    revoked just now), ``revoked``, ``expired`` or ``unknown``.
    """

    outcome: str
    session: SessionRecord | None


class IdentityDirectory(Protocol):
    """Reads of the identity side tables, and the operational state that is
    not history. Every read is by a key that includes or implies the tenant.
    Adapters raise :class:`~infra.errors.DependencyUnavailableError` when the
    database cannot be reached."""

    def account(self, account_id: UUID) -> AccountRecord | None:
        """The account (any tenant: callers compare the tenant)."""
        ...

    def account_by_email(self, tenant_id: str, email: str) -> AccountRecord | None:
        """The tenant's account with this (case-insensitive) e-mail; ``None``
        for any text no account can have (a NUL, an unpaired surrogate), never
        an error."""
        ...

    def tenant_admins(self, tenant_id: str) -> frozenset[UUID]:
        """The tenant's active accounts holding the tenant-administrator role."""
        ...

    def one_time_token(self, digest: str) -> OneTimeTokenRecord | None: ...

    def session(self, session_id: UUID) -> SessionRecord | None: ...

    def rotate_refresh(
        self, presented_digest: str, new_digest: str, now: datetime
    ) -> Rotation:
        """Atomically rotate a session's refresh token (row-locked): the
        presented digest must be the session's current one. A digest that was
        current once and has been rotated since is reuse: the session is
        revoked in the same transaction."""
        ...

    def set_pending_totp(self, account_id: UUID, secret: bytes | None) -> None:
        """Remember (or forget) the secret of an enrollment not yet confirmed."""
        ...

    def finish_enrollment(self, session_id: UUID) -> None:
        """The session may now call everything its roles allow."""
        ...

    def api_token(self, digest: str) -> ApiTokenRecord | None: ...

    def api_tokens(self, tenant_id: str) -> Sequence[ApiTokenRecord]:
        """The tenant's API tokens, newest first."""
        ...

    def touch_api_token(self, token_id: UUID, now: datetime) -> None:
        """Record a use (adapters may write at most once a minute per token)."""
        ...


class Authenticator(Protocol):
    """Builds the caller from request headers, at the HTTP edge.

    It runs on the event loop, so it must not block: blocking I/O goes to a
    worker thread. Adapters live in ``infra.identity.authenticator``.
    """

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The caller of a request with these (case-insensitive) headers.

        Raises:
            NotAuthenticatedError: no acceptable credentials
                (``commands.http.edge``; 401).
            TooManyRequestsError: the token spent its request budget
                (``commands.http.edge``; 429).
            PermissionDeniedError: the credentials are valid but may not be
                used here (403).
        """
        ...
