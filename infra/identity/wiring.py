"""Wires identity and access from the settings: keys, crypto, stores,
services and the authenticator (called by :func:`infra.bootstrap.bootstrap`).

Keys come from the environment. Outside development a missing key stops the
process at start-up; in development a missing key is replaced by a random one
for this process (sessions then end when it stops), with a warning.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from commands.http.edge import Authenticator
from commands.identity.accounts import AccountService
from commands.identity.api_tokens import ApiTokenService
from commands.identity.mfa import MfaService
from commands.identity.sessions import SessionService
from commands.identity.tenants import TenantService
from commands.ports import EventStore
from domain.principal import Role
from domain.tenant_settings import TenantSettings, settings_id
from infra.cache.redis import RedisGuard
from infra.cache.ttl import TtlCache
from infra.errors import InfrastructureError
from infra.identity.authenticator import (
    DevelopmentAuthenticator,
    TokenAuthenticator,
    TokenThrottle,
)
from infra.identity.crypto import (
    HmacRecoveryCodes,
    JwtIssuer,
    OpaqueSecrets,
    SecurityPasswords,
    SecurityTotp,
    SystemClock,
)
from infra.identity.login_guard import LockoutPolicy, LoginGuard
from infra.identity.rate_limit import AuthAttemptLimits, RateLimiter
from infra.identity.security.passwords import PasswordHasher, PasswordPolicy
from infra.identity.security.tokens import AccessTokens
from infra.identity.security.totp import RecoveryCodes, Totp, TotpSecrets
from infra.postgres.audit_teams import PostgresAuditTeams
from infra.postgres.identity import PostgresIdentityDirectory
from infra.postgres.pool import Database
from infra.settings import Settings

log = logging.getLogger(__name__)

TEAM_TTL_SECONDS = 5.0
"""How late an auditor may see a change of the audit teams naming them."""
MFA_POLICY_TTL_SECONDS = 30.0
"""How late an API process may apply a change of a tenant's MFA policy."""


class MissingKeyError(InfrastructureError):
    """A key identity needs is not configured (outside development)."""


@dataclass
class Identity:
    """The identity services, the directory and the authenticator."""

    tenants: TenantService
    accounts: AccountService
    sessions: SessionService
    mfa: MfaService
    api_tokens: ApiTokenService
    directory: PostgresIdentityDirectory
    authenticator: Authenticator
    attempt_limits: AuthAttemptLimits
    redis: RedisGuard


def _key(settings: Settings, name: str) -> bytes:
    value = getattr(settings, name)
    if value is not None:
        return bytes.fromhex(value.get_secret_value())
    variable = f"ASSUREHUB_{name.upper()}"
    if not settings.dev_headers:
        raise MissingKeyError(f"{variable} is required outside development")
    log.warning(
        "no key configured: a random one is used until this process stops",
        extra={"setting": variable},
    )
    return secrets.token_bytes(32)


def _totp(settings: Settings) -> TotpSecrets:
    keys = settings.totp_keys()
    if not keys:
        return TotpSecrets(_key(settings, "totp_encryption_keys"))
    (version, current), *older = keys
    return TotpSecrets(current, key_version=version, previous_keys=dict(older))


def _mfa_required(store: EventStore, key: tuple[str, frozenset[Role]]) -> bool:
    tenant_id, roles = key
    settings = store.load(TenantSettings, settings_id(tenant_id))
    return settings is not None and settings.mfa_required(roles)


def build_identity(
    settings: Settings, database: Database, store: EventStore
) -> Identity:
    """Wire identity for ``settings``."""
    clock = SystemClock()
    opaque = OpaqueSecrets()
    redis = RedisGuard(
        settings.redis_url,
        timeout=settings.redis_timeout_seconds,
        pause=settings.redis_pause_seconds,
    )
    guard = LoginGuard(redis, LockoutPolicy.from_settings(settings))
    directory = PostgresIdentityDirectory(database)
    access = AccessTokens(
        _key(settings, "jwt_signing_key"),
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.access_token_ttl_seconds,
    )
    totp = SecurityTotp(_totp(settings), Totp())
    recovery = HmacRecoveryCodes(RecoveryCodes(_key(settings, "recovery_code_key")))
    passwords = SecurityPasswords(PasswordHasher(), PasswordPolicy())
    base = settings.public_base_url
    invitation_ttl = timedelta(hours=settings.invitation_ttl_hours)
    tokens = TokenAuthenticator(
        access,
        directory,
        TtlCache(PostgresAuditTeams(database).audits_of, ttl=TEAM_TTL_SECONDS),
        TokenThrottle(RateLimiter(redis), settings.api_requests_per_minute),
        TtlCache(partial(_mfa_required, store), ttl=MFA_POLICY_TTL_SECONDS),
    )
    authenticator: Authenticator = (
        DevelopmentAuthenticator(tokens) if settings.dev_headers else tokens
    )
    return Identity(
        tenants=TenantService(store, opaque, clock, base, invitation_ttl),
        accounts=AccountService(
            store,
            directory,
            passwords,
            opaque,
            clock,
            base,
            invitation_ttl,
            timedelta(minutes=settings.password_reset_ttl_minutes),
            guard=guard,
        ),
        sessions=SessionService(
            store,
            directory,
            passwords,
            opaque,
            JwtIssuer(access),
            totp,
            recovery,
            guard,
            clock,
            refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
        ),
        mfa=MfaService(
            store, directory, totp, recovery, guard, clock, settings.totp_issuer
        ),
        api_tokens=ApiTokenService(store, directory, opaque, clock),
        directory=directory,
        authenticator=authenticator,
        attempt_limits=AuthAttemptLimits(
            RateLimiter(redis), settings.auth_attempts_per_minute
        ),
        redis=redis,
    )
