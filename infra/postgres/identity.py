"""The identity directory over Postgres: reads of the identity side tables
and the operational state that is not history (refresh rotation, a pending
TOTP enrollment, an API token's last use).

The side records themselves are written with the events
(:mod:`infra.postgres.identity_records`). Connections come from our pool, so
an unreachable database raises
:class:`~infra.errors.DependencyUnavailableError`. A lookup by text Postgres
cannot hold (a NUL, an unpaired surrogate) finds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from commands.identity.ports import (
    AccountRecord,
    ApiTokenRecord,
    OneTimeTokenRecord,
    Rotation,
    SessionRecord,
)
from infra.errors import UnstorableTextError
from infra.postgres.pool import Connection, Database

_ACCOUNT = (
    "SELECT account_id, tenant_id, email, name, status, roles, organization_ids,"
    " mfa_enrolled, password_hash, totp_secret, totp_last_step, totp_pending,"
    " recovery_hashes FROM identity_accounts"
)
_SESSION = (
    "SELECT session_id, tenant_id, account_id, expires_at, revoked_at,"
    " mfa_enrollment_pending FROM identity_sessions"
)
_API_SELECT = (
    "SELECT token_id, tenant_id, name, roles, scopes, expires_at, revoked_at,"
    " last_used_at, prefix, created_at FROM identity_api_tokens"
)


def _account(row: tuple[Any, ...]) -> AccountRecord:
    return AccountRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        tuple(row[5]),
        tuple(row[6]),
        row[7],
        row[8],
        None if row[9] is None else bytes(row[9]),
        row[10],
        None if row[11] is None else bytes(row[11]),
        tuple(row[12]),
    )


def _api_token(row: tuple[Any, ...]) -> ApiTokenRecord:
    return ApiTokenRecord(
        row[0],
        row[1],
        row[2],
        tuple(row[3]),
        tuple(row[4]),
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
    )


class PostgresIdentityDirectory:
    """:class:`~commands.identity.ports.IdentityDirectory` over Postgres."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def account(self, account_id: UUID) -> AccountRecord | None:
        """The account (any tenant: callers compare the tenant)."""
        with self._database.connection() as conn:
            row = conn.execute(f"{_ACCOUNT} WHERE account_id = %s", (account_id,))
            found = row.fetchone()
        return None if found is None else _account(found)

    def account_by_email(self, tenant_id: str, email: str) -> AccountRecord | None:
        """The tenant's account with this (case-insensitive) e-mail; none for
        text Postgres cannot hold, which no stored account has."""
        try:
            with self._database.connection() as conn:
                found = conn.execute(
                    f"{_ACCOUNT} WHERE tenant_id = %s AND email = %s",
                    (tenant_id, email.strip().lower()),
                ).fetchone()
        except UnstorableTextError:
            return None
        return None if found is None else _account(found)

    def one_time_token(self, digest: str) -> OneTimeTokenRecord | None:
        """The one-time token stored under ``digest``."""
        with self._database.connection() as conn:
            found = conn.execute(
                "SELECT digest, purpose, tenant_id, account_id, expires_at, used_at,"
                " revoked_at IS NOT NULL FROM identity_one_time_tokens"
                " WHERE digest = %s",
                (digest,),
            ).fetchone()
        return None if found is None else OneTimeTokenRecord(*found)

    def session(self, session_id: UUID) -> SessionRecord | None:
        """The login session."""
        with self._database.connection() as conn:
            found = conn.execute(
                f"{_SESSION} WHERE session_id = %s", (session_id,)
            ).fetchone()
        return None if found is None else SessionRecord(*found)

    def rotate_refresh(
        self, presented_digest: str, new_digest: str, now: datetime
    ) -> Rotation:
        """Rotate the session's refresh token under a row lock; a digest
        rotated away from earlier revokes the session (reuse)."""
        with self._database.connection() as conn, conn.transaction():
            found = conn.execute(
                f"{_SESSION} WHERE refresh_digest = %s FOR UPDATE",
                (presented_digest,),
            ).fetchone()
            if found is None:
                return _reuse(conn, presented_digest, now)
            session = SessionRecord(*found)
            if session.revoked_at is not None:
                return Rotation("revoked", session)
            if session.expires_at <= now:
                return Rotation("expired", session)
            conn.execute(
                "UPDATE identity_sessions SET refresh_digest = %s,"
                " last_rotated_at = %s WHERE session_id = %s",
                (new_digest, now, session.session_id),
            )
            conn.execute(
                "INSERT INTO identity_refresh_digests (digest, session_id,"
                " rotated_at) VALUES (%s, %s, %s)",
                (presented_digest, session.session_id, now),
            )
            return Rotation("rotated", session)

    def set_pending_totp(self, account_id: UUID, secret: bytes | None) -> None:
        """Remember (or forget) the secret of an unconfirmed enrollment."""
        with self._database.connection() as conn:
            conn.execute(
                "UPDATE identity_accounts SET totp_pending = %s WHERE account_id = %s",
                (secret, account_id),
            )

    def finish_enrollment(self, session_id: UUID) -> None:
        """The session may now call everything its roles allow."""
        with self._database.connection() as conn:
            conn.execute(
                "UPDATE identity_sessions SET mfa_enrollment_pending = false"
                " WHERE session_id = %s",
                (session_id,),
            )

    def api_token(self, digest: str) -> ApiTokenRecord | None:
        """The API token stored under ``digest``."""
        with self._database.connection() as conn:
            found = conn.execute(
                f"{_API_SELECT} WHERE digest = %s", (digest,)
            ).fetchone()
        return None if found is None else _api_token(found)

    def tenant_admins(self, tenant_id: str) -> frozenset[UUID]:
        """The tenant's active accounts holding the tenant-administrator role."""
        with self._database.connection() as conn:
            rows = conn.execute(
                "SELECT account_id FROM identity_accounts WHERE tenant_id = %s"
                " AND status = 'active' AND 'tenant_admin' = ANY(roles)",
                (tenant_id,),
            ).fetchall()
        return frozenset(row[0] for row in rows)

    def api_tokens(self, tenant_id: str) -> Sequence[ApiTokenRecord]:
        """The tenant's API tokens, newest first."""
        with self._database.connection() as conn:
            rows = conn.execute(
                f"{_API_SELECT} WHERE tenant_id = %s"
                " ORDER BY created_at DESC, token_id",
                (tenant_id,),
            ).fetchall()
        return [_api_token(row) for row in rows]

    def touch_api_token(self, token_id: UUID, now: datetime) -> None:
        """Record a use; written at most once a minute per token."""
        with self._database.connection() as conn:
            conn.execute(
                "UPDATE identity_api_tokens SET last_used_at = %s WHERE token_id = %s"
                " AND (last_used_at IS NULL"
                " OR last_used_at <= %s - interval '1 minute')",
                (now, token_id, now),
            )


def _reuse(conn: Connection, presented_digest: str, now: datetime) -> Rotation:
    """A digest that is no session's current one: reuse if it was rotated
    away from (the session is revoked now, in the caller's transaction)."""
    rotated = conn.execute(
        "SELECT session_id FROM identity_refresh_digests WHERE digest = %s",
        (presented_digest,),
    ).fetchone()
    found = (
        None
        if rotated is None
        else conn.execute(
            f"{_SESSION} WHERE session_id = %s FOR UPDATE", (rotated[0],)
        ).fetchone()
    )
    if found is None:
        return Rotation("unknown", None)
    session = SessionRecord(*found)
    if session.revoked_at is not None:
        return Rotation("revoked", session)
    conn.execute(
        "UPDATE identity_sessions SET revoked_at = %s WHERE session_id = %s",
        (now, session.session_id),
    )
    return Rotation("reused", replace(session, revoked_at=now))
