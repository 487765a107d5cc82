"""Authenticators: how the edge builds the Principal.

In production the caller presents ``Authorization: Bearer <token>``:

* an **access token** (a JWT, HMAC with the pinned algorithm) naming a login
  session. The session must exist, be neither revoked nor expired, and its
  account must be active; the Principal is built from the account's *current*
  row (roles, organization scope), so logging out, changing a password,
  deactivating an account or revoking a role takes effect on the next request,
  not when the token expires. A tenant policy requiring MFA covers open
  sessions too: an account it covers that has not enrolled may only enroll.
  An account whose only staff role is ``auditor``
  is limited to the audits whose team names it (read from the audits read
  model, cached for a few seconds).
* an **API token** (``ah_live_...``) of a service account: looked up by its
  SHA-256, refused when revoked or expired; its roles and scopes make the
  Principal. Its last use is recorded (at most once a minute).

Every token has a request budget per minute (:class:`TokenThrottle`).

Development headers (``X-Dev-*``) fill the whole Principal only when
``ASSUREHUB_ENV=development``, and only for requests without an
``Authorization`` header::

    X-Dev-Tenant: acme-cert            (required)
    X-Dev-Actor: alice                 (required)
    X-Dev-Roles: tenant_admin,auditor  (comma-separated Role values)
    X-Dev-Organizations: <uuid>,...    (optional scope; absent = whole tenant)
    X-Dev-Audits: <uuid>,...           (optional scope)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from anyio import to_thread

from commands.http.edge import NotAuthenticatedError, TooManyRequestsError
from commands.identity.ports import AccountRecord, Authenticator, IdentityDirectory
from domain.principal import Principal, Role
from infra.cache.rate_limit import Limit, RateLimiter
from infra.identity.security.tokens import AccessTokens, InvalidTokenError, digest

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$")
API_TOKEN_PREFIX = "ah_live_"  # noqa: S105 - a prefix, not a secret
_CLIENT_ROLES = frozenset({Role.CLIENT_ADMIN, Role.CLIENT_USER})
_TEAM_SCOPED = frozenset({Role.AUDITOR})
_ROLE_VALUES = frozenset(role.value for role in Role)


def _ids(value: str | None, header: str) -> frozenset[UUID] | None:
    if value is None:
        return None
    try:
        return frozenset(UUID(v.strip()) for v in value.split(",") if v.strip())
    except ValueError as e:
        raise NotAuthenticatedError(f"{header} must list UUIDs") from e


class DevelopmentHeaderAuthenticator:
    """Reads the caller from ``X-Dev-*`` headers (development only)."""

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        tenant = headers.get("x-dev-tenant", "").strip()
        actor = headers.get("x-dev-actor", "").strip()
        if not _ID.match(tenant) or not _ID.match(actor):
            raise NotAuthenticatedError(
                "send X-Dev-Tenant and X-Dev-Actor (letters, digits, ._@:-)"
            )
        try:
            roles = frozenset(
                Role(r.strip())
                for r in headers.get("x-dev-roles", "").split(",")
                if r.strip()
            )
        except ValueError as e:
            allowed = ", ".join(r.value for r in Role)
            raise NotAuthenticatedError(f"X-Dev-Roles must be among: {allowed}") from e
        return Principal(
            tenant_id=tenant,
            actor_id=actor,
            roles=roles,
            organization_ids=_ids(
                headers.get("x-dev-organizations"), "X-Dev-Organizations"
            ),
            audit_ids=_ids(headers.get("x-dev-audits"), "X-Dev-Audits"),
        )


class NoAuthenticator:
    """Refuses every request: no authentication is configured."""

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:  # noqa: ARG002
        raise NotAuthenticatedError("authentication is required")


class Throttle(Protocol):
    """Spends one request of a token's budget."""

    def spend(self, token_key: str) -> None: ...


TeamAudits = Callable[[tuple[str, str]], frozenset[UUID]]
"""``(tenant, actor)`` → the audits whose team names the actor."""
MfaRequired = Callable[[tuple[str, frozenset[Role]]], bool]
"""``(tenant, roles)`` → whether the tenant's MFA policy covers the roles."""


class TokenThrottle:
    """The general request budget of one token per minute."""

    def __init__(self, limiter: RateLimiter, per_minute: int) -> None:
        self._limiter = limiter
        self._limit = Limit("token-requests", per_minute, 60)

    def spend(self, token_key: str) -> None:
        """Count one request; :class:`TooManyRequestsError` past the budget."""
        verdict = self._limiter.hit(self._limit, token_key)
        if not verdict.allowed:
            raise TooManyRequestsError(verdict.retry_after)


def _bearer(headers: Mapping[str, str]) -> str:
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 4096:
        raise NotAuthenticatedError("send Authorization: Bearer <token>")
    return token


def _roles(values: tuple[str, ...]) -> frozenset[Role]:
    return frozenset(Role(v) for v in values if v in _ROLE_VALUES)


class TokenAuthenticator:
    """Builds the caller from an access token or an API token."""

    def __init__(
        self,
        tokens: AccessTokens,
        directory: IdentityDirectory,
        teams: TeamAudits,
        throttle: Throttle,
        mfa: MfaRequired,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._tokens = tokens
        self._directory = directory
        self._teams = teams
        self._mfa = mfa
        self._throttle = throttle
        self._clock = clock

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        token = _bearer(headers)
        if token.startswith(API_TOKEN_PREFIX):
            return await to_thread.run_sync(self._api_token, token)
        try:
            claims = self._tokens.verify(token)
        except InvalidTokenError as e:
            raise NotAuthenticatedError(f"access token refused: {e.reason}") from e
        return await to_thread.run_sync(
            self._session, claims.session_id, claims.subject, claims.tenant_id
        )

    def _session(self, session_id: str, subject: str, tenant_id: str) -> Principal:
        refused = NotAuthenticatedError("session ended; log in again")
        try:
            sid, account_id = UUID(session_id), UUID(subject)
        except ValueError as e:
            raise refused from e
        session = self._directory.session(sid)
        now = self._clock()
        if (
            session is None
            or session.revoked_at is not None
            or session.expires_at <= now
            or session.account_id != account_id
            or session.tenant_id != tenant_id
        ):
            raise refused
        account = self._directory.account(account_id)
        if account is None or account.status != "active":
            raise refused
        self._throttle.spend(f"session:{sid}")
        enrolling = session.mfa_enrollment_pending or (
            not account.mfa_enrolled
            and self._mfa((account.tenant_id, _roles(account.roles)))
        )
        return self._principal(account, str(sid), enrolling)

    def _principal(
        self, account: AccountRecord, session_id: str, enrolling: bool
    ) -> Principal:
        roles = _roles(account.roles)
        actor = str(account.account_id)
        organizations = (
            frozenset(account.organization_ids) if roles & _CLIENT_ROLES else None
        )
        audits = (
            self._teams((account.tenant_id, actor))
            if roles and roles <= _TEAM_SCOPED
            else None
        )
        return Principal(
            tenant_id=account.tenant_id,
            actor_id=actor,
            roles=roles,
            organization_ids=organizations,
            audit_ids=audits,
            session_id=session_id,
            mfa_enrollment_pending=enrolling,
        )

    def _api_token(self, token: str) -> Principal:
        record = self._directory.api_token(digest(token))
        now = self._clock()
        if (
            record is None
            or record.revoked_at is not None
            or (record.expires_at is not None and record.expires_at <= now)
        ):
            raise NotAuthenticatedError("API token refused")
        self._throttle.spend(f"api-token:{record.token_id}")
        self._directory.touch_api_token(record.token_id, now)
        return Principal(
            tenant_id=record.tenant_id,
            actor_id=str(record.token_id),
            roles=_roles(record.roles),
            scopes=frozenset(record.scopes) if record.scopes else None,
            session_id=str(record.token_id),
        )


class DevelopmentAuthenticator:
    """Development: tokens when an ``Authorization`` header is sent, else the
    ``X-Dev-*`` headers."""

    def __init__(self, tokens: Authenticator) -> None:
        self._tokens = tokens
        self._headers = DevelopmentHeaderAuthenticator()

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        if "authorization" in headers:
            return await self._tokens.authenticate(headers)
        return await self._headers.authenticate(headers)
