"""The edge builds the caller from a bearer token, against the current state
of the session, the account and the API token (in-memory identity twin)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt
import pytest

from commands.http.edge import NotAuthenticatedError, TooManyRequestsError
from commands.identity.ports import (
    AccountSaved,
    ApiTokenRevoked,
    ApiTokenStored,
    SessionsRevoked,
    SessionStarted,
)
from domain.principal import Role
from infra.identity.authenticator import DevelopmentAuthenticator, TokenAuthenticator
from infra.identity.memory import InMemoryIdentity
from infra.identity.security.tokens import AccessTokens, digest

KEY = b"k" * 32
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
AUDIT = uuid.uuid4()
ORG = uuid.uuid4()


class CountingThrottle:
    def __init__(self, budget: int = 1000) -> None:
        self.spent: list[str] = []
        self.budget = budget

    def spend(self, token_key: str) -> None:
        self.spent.append(token_key)
        if len(self.spent) > self.budget:
            raise TooManyRequestsError(7)


class World:
    def __init__(self, throttle: CountingThrottle | None = None) -> None:
        self.identity = InMemoryIdentity()
        self.tokens = AccessTokens(KEY, "assurehub", "assurehub-api", 900)
        self.throttle = throttle or CountingThrottle()
        self.team_lookups: list[tuple[str, str]] = []
        self.mfa_roles: frozenset[Role] = frozenset()
        self.auth = TokenAuthenticator(
            self.tokens,
            self.identity,
            self._team,
            self.throttle,
            lambda key: bool(key[1] & self.mfa_roles),
            clock=lambda: NOW,
        )

    def _team(self, key: tuple[str, str]) -> frozenset[UUID]:
        self.team_lookups.append(key)
        return frozenset({AUDIT})

    def account(
        self,
        roles: tuple[str, ...],
        organizations: tuple[UUID, ...] = (),
        status: str = "active",
        tenant: str = "acme-cert",
    ) -> UUID:
        account_id = uuid.uuid4()
        self.identity.write(
            AccountSaved(
                account_id,
                tenant,
                f"{account_id.hex[:8]}@acme.test",
                "Ada",
                status,
                roles,
                organizations,
                False,
            )
        )
        return account_id

    def session(
        self,
        account_id: UUID,
        tenant: str = "acme-cert",
        expires_at: datetime = NOW + timedelta(days=1),
        pending: bool = False,
    ) -> str:
        session_id = uuid.uuid4()
        self.identity.write(
            SessionStarted(
                session_id,
                tenant,
                account_id,
                uuid.uuid4().hex,
                expires_at,
                pending,
            )
        )
        return self.tokens.issue(
            subject=str(account_id),
            tenant_id=tenant,
            session_id=str(session_id),
            roles=(),
        )

    def call(self, token: str):
        headers = {"authorization": f"Bearer {token}"}
        return asyncio.run(self.auth.authenticate(headers))


def test_a_live_session_gives_the_accounts_current_roles_not_the_tokens():
    world = World()
    account = world.account(("compliance_officer",))
    principal = world.call(world.session(account))
    assert principal.tenant_id == "acme-cert"
    assert principal.actor_id == str(account)
    assert principal.roles == {Role.COMPLIANCE_OFFICER}
    assert principal.organization_ids is None
    assert principal.audit_ids is None


def test_a_revoked_session_is_refused_at_once():
    world = World()
    account = world.account(("tenant_admin",))
    token = world.session(account)
    world.call(token)
    world.identity.write(SessionsRevoked(account))
    with pytest.raises(NotAuthenticatedError):
        world.call(token)


def test_an_expired_session_or_an_inactive_account_is_refused():
    world = World()
    account = world.account(("tenant_admin",))
    expired = world.session(account, expires_at=NOW - timedelta(seconds=1))
    with pytest.raises(NotAuthenticatedError):
        world.call(expired)
    deactivated = world.account(("tenant_admin",), status="deactivated")
    with pytest.raises(NotAuthenticatedError):
        world.call(world.session(deactivated))


def test_a_token_naming_another_tenant_than_its_session_is_refused():
    world = World()
    account = world.account(("tenant_admin",))
    session_id = uuid.uuid4()
    world.identity.write(
        SessionStarted(
            session_id, "acme-cert", account, "d" * 64, NOW + timedelta(1), False
        )
    )
    forged = world.tokens.issue(
        subject=str(account), tenant_id="rival", session_id=str(session_id), roles=()
    )
    with pytest.raises(NotAuthenticatedError):
        world.call(forged)


def test_role_changes_take_effect_on_the_next_request():
    world = World()
    account = world.account(("tenant_admin",))
    token = world.session(account)
    assert world.call(token).roles == {Role.TENANT_ADMIN}
    world.identity.write(
        AccountSaved(
            account,
            "acme-cert",
            "x@acme.test",
            "Ada",
            "active",
            ("auditor",),
            (),
            False,
        )
    )
    principal = world.call(token)
    assert principal.roles == {Role.AUDITOR}
    assert principal.audit_ids == {AUDIT}


def test_client_users_are_scoped_to_their_organizations():
    world = World()
    account = world.account(("client_user",), organizations=(ORG,))
    principal = world.call(world.session(account))
    assert principal.organization_ids == {ORG}
    assert principal.audit_ids is None


def test_only_auditor_only_accounts_are_limited_to_their_teams_audits():
    world = World()
    auditor = world.call(world.session(world.account(("auditor",))))
    assert auditor.audit_ids == {AUDIT}
    manager = world.call(world.session(world.account(("auditor", "programme_manager"))))
    assert manager.audit_ids is None


def test_a_policy_set_after_login_holds_an_open_session_to_enrollment():
    world = World()
    account = world.account(("tenant_admin",))
    token = world.session(account)
    assert not world.call(token).mfa_enrollment_pending
    world.mfa_roles = frozenset({Role.TENANT_ADMIN})
    assert world.call(token).mfa_enrollment_pending


def test_a_pending_mfa_enrollment_travels_with_the_session():
    world = World()
    account = world.account(("tenant_admin",))
    principal = world.call(world.session(account, pending=True))
    assert principal.mfa_enrollment_pending


def _resigned(token: str, algorithm: str) -> str:
    """The same claims signed with the right key under another algorithm."""
    claims = jwt.decode(token, options={"verify_signature": False})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyjwt warns the key is short for HS512
        return jwt.encode(claims, KEY, algorithm)


def _unsigned(token: str) -> str:
    """The same claims with ``alg: none`` and no signature."""
    claims = jwt.decode(token, options={"verify_signature": False})
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    return f"{header.decode()}.{body.decode()}."


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: jwt.encode(
            jwt.decode(t, options={"verify_signature": False}), b"x" * 32, "HS256"
        ),
        lambda t: _resigned(t, "HS512"),
        _unsigned,
        lambda _t: "not-a-token",
    ],
    ids=["tampered", "other key", "other algorithm", "alg none", "garbage"],
)
def test_a_tampered_or_foreign_access_token_is_refused(mangle):
    world = World()
    token = world.session(world.account(("tenant_admin",)))
    with pytest.raises(NotAuthenticatedError):
        world.call(mangle(token))


def test_an_expired_access_token_is_refused():
    world = World()
    account = world.account(("tenant_admin",))
    good = world.session(account)
    claims = jwt.decode(good, options={"verify_signature": False})
    old = AccessTokens(
        KEY, "assurehub", "assurehub-api", 60, clock=lambda: time.time() - 3600
    ).issue(
        subject=claims["sub"],
        tenant_id=claims["tid"],
        session_id=claims["sid"],
        roles=(),
    )
    with pytest.raises(NotAuthenticatedError):
        world.call(old)


def _api_token(
    world: World, scopes: tuple[str, ...], expires_at=None
) -> tuple[str, UUID]:
    token_id = uuid.uuid4()
    token = f"ah_live_{uuid.uuid4().hex}"
    world.identity.write(
        ApiTokenStored(
            token_id,
            "acme-cert",
            digest(token),
            "ERP",
            ("compliance_officer",),
            scopes,
            expires_at,
            token[:12],
        )
    )
    return token, token_id


def test_an_api_token_carries_its_roles_and_scopes_and_records_its_use():
    world = World()
    token, token_id = _api_token(world, ("certificate:read",))
    principal = world.call(token)
    assert principal.roles == {Role.COMPLIANCE_OFFICER}
    assert principal.scopes == {"certificate:read"}
    assert principal.actor_id == str(token_id)
    assert world.identity.api_token(digest(token)).last_used_at == NOW  # type: ignore[union-attr]


def test_a_revoked_expired_or_unknown_api_token_is_refused():
    world = World()
    token, token_id = _api_token(world, ())
    world.identity.write(ApiTokenRevoked(token_id))
    with pytest.raises(NotAuthenticatedError):
        world.call(token)
    expired, _ = _api_token(world, (), expires_at=NOW - timedelta(seconds=1))
    with pytest.raises(NotAuthenticatedError):
        world.call(expired)
    with pytest.raises(NotAuthenticatedError):
        world.call("ah_live_" + "0" * 40)


def test_every_token_has_a_request_budget():
    world = World(CountingThrottle(budget=2))
    token = world.session(world.account(("tenant_admin",)))
    world.call(token)
    world.call(token)
    with pytest.raises(TooManyRequestsError) as refused:
        world.call(token)
    assert refused.value.retry_after == 7


def test_a_request_without_bearer_credentials_is_refused():
    world = World()
    for headers in ({}, {"authorization": "Basic YTpi"}, {"authorization": "Bearer "}):
        with pytest.raises(NotAuthenticatedError):
            asyncio.run(world.auth.authenticate(headers))


def test_development_headers_are_used_only_without_an_authorization_header():
    world = World()
    dev = DevelopmentAuthenticator(world.auth)
    by_headers = asyncio.run(
        dev.authenticate({"x-dev-tenant": "acme-cert", "x-dev-actor": "alice"})
    )
    assert by_headers.actor_id == "alice"
    with pytest.raises(NotAuthenticatedError):
        asyncio.run(
            dev.authenticate(
                {
                    "authorization": "Bearer forged",
                    "x-dev-tenant": "acme-cert",
                    "x-dev-actor": "alice",
                }
            )
        )
