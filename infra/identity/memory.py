"""The identity side tables in memory: the test twin of
:mod:`infra.postgres.identity_records` and :mod:`infra.postgres.identity`.

The in-memory event store writes the side records here with its events, all
or nothing (:meth:`InMemoryIdentity.transaction`); the same object answers as
the :class:`~commands.identity.ports.IdentityDirectory`. Get it from
``memory_identity(LibraryEventStore(in_memory_env()))``
(:mod:`infra.eventstore.memory`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import singledispatchmethod
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from commands.identity.ports import (
    AccountRecord,
    AccountSaved,
    ApiTokenRecord,
    ApiTokenRevoked,
    ApiTokenStored,
    IdentityRecord,
    OneTimeTokenIssued,
    OneTimeTokenRecord,
    OneTimeTokensRevoked,
    OneTimeTokenUsed,
    OutboxMessage,
    PasswordHashSet,
    PersonErased,
    RecoveryCodeSpent,
    RecoveryCodesReplaced,
    Rotation,
    SessionRecord,
    SessionsRevoked,
    SessionStarted,
    SideRecordRefusedError,
    TotpActivated,
    TotpCleared,
    TotpStepUsed,
)
from domain.personal import ERASED

TOUCH_INTERVAL = timedelta(minutes=1)
"""An API token's last use is written at most this often."""


@dataclass
class _State:
    accounts: dict[UUID, AccountRecord]
    tokens: dict[str, OneTimeTokenRecord]
    sessions: dict[UUID, SessionRecord]
    refresh: dict[str, UUID]
    """Current refresh digest → session."""
    rotated: dict[str, UUID]
    """Refresh digests rotated away from → session."""
    api_tokens: dict[UUID, ApiTokenRecord]
    api_digests: dict[str, UUID]
    outbox: list[OutboxMessage]

    def copy(self) -> _State:
        return _State(*(type(v)(v) for v in vars(self).values()))


def _now() -> datetime:
    return datetime.now(UTC)


class InMemoryIdentity:
    """Accounts, one-time tokens, sessions, API tokens and the outbox, in
    memory; an :class:`~commands.identity.ports.IdentityDirectory`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._state = _State({}, {}, {}, {}, {}, {}, {}, [])

    @property
    def outbox(self) -> list[OutboxMessage]:
        """The messages written so far, oldest first."""
        with self._lock:
            return list(self._state.outbox)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Undo every write made inside the block if it raises."""
        with self._lock:
            saved = self._state.copy()
            try:
                yield
            except BaseException:
                self._state = saved
                raise

    def write(self, record: IdentityRecord) -> None:
        """Apply one side record.

        Raises:
            SideRecordRefusedError: a conditional record's condition is false
                (or a credential record names an account without a row).
            IntegrityError: a unique value is taken (as Postgres would).
        """
        with self._lock:
            self._write(record)

    @singledispatchmethod
    def _write(self, record: IdentityRecord) -> None:
        raise TypeError(f"no twin for side record {type(record).__name__}")

    @_write.register
    def _(self, record: AccountSaved) -> None:
        old = self._state.accounts.get(record.account_id)
        email = record.email.strip().lower()
        if any(
            a.tenant_id == record.tenant_id
            and a.email == email
            and a.account_id != record.account_id
            for a in self._state.accounts.values()
        ):
            raise IntegrityError("identity_accounts_email_key")
        self._state.accounts[record.account_id] = AccountRecord(
            record.account_id,
            old.tenant_id if old else record.tenant_id,
            email,
            record.name,
            record.status,
            record.roles,
            record.organization_ids,
            record.mfa_enrolled,
            old.password_hash if old else None,
            old.totp_secret if old else None,
            old.totp_last_step if old else None,
            old.totp_pending if old else None,
            old.recovery_hashes if old else (),
        )

    def _change_account(
        self, record: IdentityRecord, account_id: UUID, **kw: object
    ) -> None:
        account = self._state.accounts.get(account_id)
        if account is None:
            raise SideRecordRefusedError(record)
        self._state.accounts[account_id] = replace(account, **kw)  # type: ignore[arg-type]

    @_write.register
    def _(self, record: PasswordHashSet) -> None:
        self._change_account(
            record, record.account_id, password_hash=record.password_hash
        )

    @_write.register
    def _(self, record: TotpActivated) -> None:
        self._change_account(
            record,
            record.account_id,
            totp_secret=record.secret,
            totp_last_step=record.used_step,
            totp_pending=None,
            recovery_hashes=record.recovery_hashes,
        )

    @_write.register
    def _(self, record: TotpCleared) -> None:
        self._change_account(
            record,
            record.account_id,
            totp_secret=None,
            totp_last_step=None,
            totp_pending=None,
            recovery_hashes=(),
        )

    @_write.register
    def _(self, record: RecoveryCodesReplaced) -> None:
        self._change_account(
            record, record.account_id, recovery_hashes=record.recovery_hashes
        )

    @_write.register
    def _(self, record: TotpStepUsed) -> None:
        account = self._state.accounts.get(record.account_id)
        last = account.totp_last_step if account else None
        if last is not None and record.step <= last:
            raise SideRecordRefusedError(record)
        self._change_account(record, record.account_id, totp_last_step=record.step)

    @_write.register
    def _(self, record: RecoveryCodeSpent) -> None:
        account = self._state.accounts.get(record.account_id)
        if account is None or record.code_hash not in account.recovery_hashes:
            raise SideRecordRefusedError(record)
        remaining = tuple(h for h in account.recovery_hashes if h != record.code_hash)
        self._change_account(record, record.account_id, recovery_hashes=remaining)

    def _revoke_tokens(self, account_id: UUID, purpose: str | None) -> None:
        for digest, token in list(self._state.tokens.items()):
            if (
                token.account_id == account_id
                and purpose in (None, token.purpose)
                and token.used_at is None
                and not token.revoked
            ):
                self._state.tokens[digest] = replace(token, revoked=True)

    @_write.register
    def _(self, record: OneTimeTokenIssued) -> None:
        if record.digest in self._state.tokens:
            raise IntegrityError("identity_one_time_tokens_pkey")
        self._revoke_tokens(record.account_id, record.purpose)
        self._state.tokens[record.digest] = OneTimeTokenRecord(
            record.digest,
            record.purpose,
            record.tenant_id,
            record.account_id,
            record.expires_at,
            None,
            False,
        )

    @_write.register
    def _(self, record: OneTimeTokenUsed) -> None:
        token = self._state.tokens.get(record.digest)
        if (
            token is None
            or token.purpose != record.purpose
            or token.used_at is not None
            or token.revoked
            or token.expires_at <= record.now
        ):
            raise SideRecordRefusedError(record)
        self._state.tokens[record.digest] = replace(token, used_at=record.now)

    @_write.register
    def _(self, record: OneTimeTokensRevoked) -> None:
        self._revoke_tokens(record.account_id, record.purpose)

    @_write.register
    def _(self, record: OutboxMessage) -> None:
        self._state.outbox.append(record)

    @_write.register
    def _(self, record: PersonErased) -> None:
        # The key and the claim are the event store twin's (InMemoryRecorder).
        email = record.email.lower()
        self._state.outbox = [
            replace(m, recipient=ERASED, subject=ERASED, body=ERASED)
            if m.tenant_id == record.tenant_id and m.recipient.lower() == email
            else m
            for m in self._state.outbox
        ]

    @_write.register
    def _(self, record: SessionStarted) -> None:
        if record.refresh_digest in self._state.refresh or (
            record.session_id in self._state.sessions
        ):
            raise IntegrityError("identity_sessions unique")
        self._state.sessions[record.session_id] = SessionRecord(
            record.session_id,
            record.tenant_id,
            record.account_id,
            record.expires_at,
            None,
            record.mfa_enrollment_pending,
        )
        self._state.refresh[record.refresh_digest] = record.session_id

    @_write.register
    def _(self, record: SessionsRevoked) -> None:
        now = _now()
        for session_id, session in list(self._state.sessions.items()):
            if (
                session.account_id == record.account_id
                and record.session_id in (None, session_id)
                and session.revoked_at is None
            ):
                self._state.sessions[session_id] = replace(session, revoked_at=now)

    @_write.register
    def _(self, record: ApiTokenStored) -> None:
        if record.digest in self._state.api_digests:
            raise IntegrityError("identity_api_tokens_digest_key")
        self._state.api_tokens[record.token_id] = ApiTokenRecord(
            record.token_id,
            record.tenant_id,
            record.name,
            record.roles,
            record.scopes,
            record.expires_at,
            None,
            None,
            record.prefix,
            _now(),
        )
        self._state.api_digests[record.digest] = record.token_id

    @_write.register
    def _(self, record: ApiTokenRevoked) -> None:
        token = self._state.api_tokens.get(record.token_id)
        if token is not None and token.revoked_at is None:
            self._state.api_tokens[record.token_id] = replace(token, revoked_at=_now())

    # --- IdentityDirectory -------------------------------------------------

    def account(self, account_id: UUID) -> AccountRecord | None:
        """The account (any tenant)."""
        with self._lock:
            return self._state.accounts.get(account_id)

    def account_by_email(self, tenant_id: str, email: str) -> AccountRecord | None:
        """The tenant's account with this (case-insensitive) e-mail."""
        wanted = email.strip().lower()
        with self._lock:
            return next(
                (
                    a
                    for a in self._state.accounts.values()
                    if a.tenant_id == tenant_id and a.email == wanted
                ),
                None,
            )

    def one_time_token(self, digest: str) -> OneTimeTokenRecord | None:
        """The token stored under ``digest``."""
        with self._lock:
            return self._state.tokens.get(digest)

    def session(self, session_id: UUID) -> SessionRecord | None:
        """The login session."""
        with self._lock:
            return self._state.sessions.get(session_id)

    def rotate_refresh(
        self, presented_digest: str, new_digest: str, now: datetime
    ) -> Rotation:
        """Rotate the session's refresh token; an old one revokes the session."""
        with self._lock:
            state = self._state
            session_id = state.refresh.get(presented_digest)
            if session_id is None:
                rotated = state.rotated.get(presented_digest)
                session = state.sessions.get(rotated) if rotated else None
                if session is None:
                    return Rotation("unknown", None)
                if session.revoked_at is not None:
                    return Rotation("revoked", session)
                session = replace(session, revoked_at=now)  # reuse: revoke
                state.sessions[session.session_id] = session
                return Rotation("reused", session)
            session = state.sessions[session_id]
            if session.revoked_at is not None:
                return Rotation("revoked", session)
            if session.expires_at <= now:
                return Rotation("expired", session)
            del state.refresh[presented_digest]
            state.refresh[new_digest] = session_id
            state.rotated[presented_digest] = session_id
            return Rotation("rotated", session)

    def set_pending_totp(self, account_id: UUID, secret: bytes | None) -> None:
        """Remember (or forget) an unconfirmed enrollment's secret."""
        with self._lock:
            account = self._state.accounts.get(account_id)
            if account is not None:
                self._state.accounts[account_id] = replace(account, totp_pending=secret)

    def finish_enrollment(self, session_id: UUID) -> None:
        """Clear the session's pending-enrollment restriction."""
        with self._lock:
            session = self._state.sessions.get(session_id)
            if session is not None:
                self._state.sessions[session_id] = replace(
                    session, mfa_enrollment_pending=False
                )

    def api_token(self, digest: str) -> ApiTokenRecord | None:
        """The API token stored under ``digest``."""
        with self._lock:
            token_id = self._state.api_digests.get(digest)
            return self._state.api_tokens.get(token_id) if token_id else None

    def tenant_admins(self, tenant_id: str) -> frozenset[UUID]:
        """The tenant's active accounts holding the tenant-administrator role."""
        with self._lock:
            return frozenset(
                a.account_id
                for a in self._state.accounts.values()
                if a.tenant_id == tenant_id
                and a.status == "active"
                and "tenant_admin" in a.roles
            )

    def api_tokens(self, tenant_id: str) -> Sequence[ApiTokenRecord]:
        """The tenant's API tokens, newest first."""
        with self._lock:
            tokens = self._state.api_tokens.values()
            return [t for t in reversed(tokens) if t.tenant_id == tenant_id]

    def touch_api_token(self, token_id: UUID, now: datetime) -> None:
        """Record a use, at most once a minute."""
        with self._lock:
            token = self._state.api_tokens.get(token_id)
            if token is None:
                return
            last = token.last_used_at
            if last is None or last <= now - TOUCH_INTERVAL:
                self._state.api_tokens[token_id] = replace(token, last_used_at=now)
