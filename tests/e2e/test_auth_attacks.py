"""Tests that try to get in: forged and stale tokens, replayed secrets, brute
force, other tenants' ids and other clients' audits. Each attempt must fail
closed, with the right status and a problem body that shows nothing
protected."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest

from domain.audit import Audit
from domain.events import EventMeta
from domain.organization import Organization
from infra.bootstrap import Container
from infra.identity.security.tokens import AccessTokens
from infra.settings import Settings
from tests.e2e.identity_helpers import (
    PASSWORD,
    Mailbox,
    Person,
    accept_invitation,
    assert_refusal,
    bearer,
    enroll,
    invite,
    join,
    login,
    new_tenant,
    platform_admin,
    security_events,
    token_server,
    wait_until,
)
from tests.e2e.world import utc_today

WRONG = "wrong-password-guess"


@pytest.fixture(scope="module")
def server(settings, pipeline) -> Iterator[tuple[httpx.Client, Container]]:
    with token_server(settings) as served:
        yield served


@pytest.fixture(scope="module")
def client(server) -> httpx.Client:
    return server[0]


@pytest.fixture(scope="module")
def mailbox(server, tmp_path_factory) -> Mailbox:
    return Mailbox(server[1], tmp_path_factory.mktemp("mail"))


@pytest.fixture(scope="module")
def admin(client, server, mailbox) -> Person:
    operator = platform_admin(client, server[1], mailbox)
    return new_tenant(client, operator, mailbox, "attack")


@pytest.fixture
def manager(client, admin, mailbox) -> Person:
    """A new programme manager of ``admin``'s tenant, logged in."""
    email, _ = invite(client, admin, "manager", ["programme_manager"])
    return join(client, mailbox, admin.tenant, email)


# --- forged and stale access tokens --------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _forge(claims: dict[str, Any], alg: str, key: bytes | None) -> str:
    """A JWT with ``alg`` in its header, HMAC-signed with ``key`` (SHA-256
    for every HMAC-looking name but HS512), or unsigned without a key."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signing_input = f"{header}.{body}".encode()
    if key is None:
        return f"{header}.{body}."
    digest = hashlib.sha512 if alg == "HS512" else hashlib.sha256
    return f"{header}.{body}.{_b64(hmac.new(key, signing_input, digest).digest())}"


def _tokens(settings: Settings, clock: float = 0.0, key: bytes | None = None):
    assert settings.jwt_signing_key is not None
    real = bytes.fromhex(settings.jwt_signing_key.get_secret_value())
    return AccessTokens(
        key or real,
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.access_token_ttl_seconds,
        clock=lambda: time.time() + clock,
    )


def _reissue(tokens: AccessTokens, access_token: str) -> str:
    claims = _claims(access_token)
    return tokens.issue(
        subject=claims["sub"],
        tenant_id=claims["tid"],
        session_id=claims["sid"],
        roles=claims["roles"],
    )


def test_forged_tampered_and_expired_access_tokens_are_refused(
    client, settings, manager
):
    token = manager.tokens["access_token"]
    email = manager.email
    # The control: the real token, and one the real key signs now, work.
    assert client.get("/me", headers=bearer(token)).status_code == 200
    fresh = _reissue(_tokens(settings), token)
    assert client.get("/me", headers=bearer(fresh)).status_code == 200

    header, body, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    tampered = f"{header}.{body}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"
    claims = _claims(token)
    promoted = _forge({**claims, "roles": ["tenant_admin"]}, "HS256", b"k" * 32)
    real_key = bytes.fromhex(settings.jwt_signing_key.get_secret_value())
    refused = {
        "tampered signature": tampered,
        "tampered claims": f"{header}.{promoted.split('.')[1]}.{signature}",
        "expired": _reissue(_tokens(settings, clock=-3600), token),
        "issued in the future": _reissue(_tokens(settings, clock=3600), token),
        "another key": _reissue(_tokens(settings, key=secrets.token_bytes(32)), token),
        "alg none": _forge(claims, "none", None),
        "alg HS512, the real key": _forge(claims, "HS512", real_key),
        "alg RS256 header, HMAC body": _forge(claims, "RS256", real_key),
        "roles promoted, unknown key": promoted,
        "not a JWT": "definitely-not-a-token",
    }
    for name, forged in refused.items():
        answer = client.get("/me", headers=bearer(forged))
        assert answer.status_code == 401, f"{name}: {answer.text}"
        assert_refusal(answer, 401, email, claims["sub"])
        assert answer.headers.get("www-authenticate", "").startswith("Bearer"), name


def test_a_signed_token_of_an_ended_session_is_refused(client, settings, manager):
    token = manager.tokens["access_token"]
    assert client.post("/auth/logout", headers=bearer(token)).status_code == 204
    for stale in (token, _reissue(_tokens(settings), token)):
        assert_refusal(client.get("/me", headers=bearer(stale)), 401, manager.email)


def test_a_replayed_refresh_token_ends_the_whole_session(client, admin, manager):
    first = manager.tokens["refresh_token"]
    rotated = client.post("/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    newest = rotated.json()
    assert client.get("/me", headers=bearer(newest["access_token"])).status_code == 200

    replay = client.post("/auth/refresh", json={"refresh_token": first})
    assert_refusal(replay, 401, first, newest["refresh_token"])
    assert replay.json()["code"] == "auth.refresh_refused"
    # Two parties held the token: neither keeps the session.
    after = client.post(
        "/auth/refresh", json={"refresh_token": newest["refresh_token"]}
    )
    assert_refusal(after, 401, newest["refresh_token"])
    assert_refusal(client.get("/me", headers=bearer(newest["access_token"])), 401)

    subject = _claims(newest["access_token"])["sub"]
    rows = wait_until(
        lambda: security_events(client, admin, "account.sessions_revoked", subject),
        "account.sessions_revoked",
    )
    assert rows[0]["detail"]["reason"] == "refresh_token_reused"


def test_a_totp_code_is_accepted_once(client, manager):
    app, _ = enroll(client, manager)
    code = app.code()
    for expected in (200, 400):
        challenge = login(client, manager.tenant, manager.email)
        answer = client.post(
            "/auth/login/mfa", json={"mfa_token": challenge["mfa_token"], "code": code}
        )
        assert answer.status_code == expected, answer.text
    assert_refusal(answer, 400, code)
    assert answer.json()["code"] == "auth.invalid_otp"
    assert "access_token" not in answer.text


# --- brute force ----------------------------------------------------------------


def _attempt(client: httpx.Client, person: Person, password: str) -> httpx.Response:
    return client.post(
        "/auth/login",
        json={"tenant": person.tenant, "email": person.email, "password": password},
    )


def _locked(answer: httpx.Response, longest: int) -> None:
    assert_refusal(answer, 429)
    assert answer.json()["code"] == "auth.locked_out"
    assert 1 <= int(answer.headers["retry-after"]) <= longest
    assert "access_token" not in answer.text


def _until_unlocked(call, timeout: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        answer = call()
        if answer.status_code != 429:
            return answer
        assert time.monotonic() < deadline, "the lockout did not end"
        time.sleep(0.25)


def test_brute_force_on_the_password_locks_the_account(settings, manager):
    with token_server(
        settings, login_failures_before_lockout=3, lockout_base_seconds=2
    ) as (client, _):
        statuses = [_attempt(client, manager, WRONG).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]
        # Locked: even the right password is turned away, unchecked.
        _locked(_attempt(client, manager, PASSWORD), longest=2)
        _locked(_attempt(client, manager, WRONG), longest=2)
        answer = _until_unlocked(lambda: _attempt(client, manager, PASSWORD))
        assert answer.status_code == 200, answer.text


def test_brute_force_on_the_second_factor_locks_it(settings, client, manager):
    app, _ = enroll(client, manager)
    with token_server(
        settings, login_failures_before_lockout=3, lockout_base_seconds=2
    ) as (limited, _):
        challenge = login(limited, manager.tenant, manager.email)

        def second(code: str) -> httpx.Response:
            return limited.post(
                "/auth/login/mfa",
                json={"mfa_token": challenge["mfa_token"], "code": code},
            )

        wrong = app.wrong_code()
        assert [second(wrong).status_code for _ in range(3)] == [400, 400, 429]
        good = app.code()
        _locked(second(good), longest=2)
        answer = _until_unlocked(lambda: second(good))
        assert answer.status_code == 200, answer.text


def test_login_lockout_holds_with_redis_unreachable(settings, manager):
    with token_server(
        settings,
        redis_url="redis://127.0.0.1:1/0",
        login_failures_before_lockout=3,
        lockout_base_seconds=60,
    ) as (client, _):
        statuses = [_attempt(client, manager, WRONG).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]
        _locked(_attempt(client, manager, PASSWORD), longest=60)


# --- other tenants, other clients -------------------------------------------------


def test_another_tenants_ids_find_nothing(client, server, mailbox, admin):
    operator = platform_admin(client, server[1], mailbox)
    other = new_tenant(client, operator, mailbox, "victim")
    secret_email, invited = invite(client, other, "secret", ["programme_manager"])
    issued = client.post(
        "/api-tokens",
        json={"name": "Victim ERP", "roles": ["compliance_officer"]},
        headers=other.headers,
    )
    assert issued.status_code == 201, issued.text
    token_id, victim_token = issued.json()["id"], issued.json()["token"]
    victim_id = invited["id"]
    hidden = (secret_email, other.email, other.tenant, "Victim ERP", victim_token)

    for method, path in (
        ("GET", f"/users/{victim_id}"),
        ("POST", f"/users/{victim_id}/deactivate"),
        ("POST", f"/users/{victim_id}/roles"),
        ("POST", f"/users/{victim_id}/invitation"),
        ("GET", f"/api-tokens/{token_id}"),
        ("POST", f"/api-tokens/{token_id}/revoke"),
    ):
        body = {"roles": ["tenant_admin"]} if path.endswith("/roles") else None
        answer = client.request(method, path, json=body, headers=admin.headers)
        assert_refusal(answer, 404, *hidden)
    for path, params in (
        ("/users", {"q": secret_email}),
        ("/security-events", {"subject_id": victim_id}),
        ("/security-events", {"subject_id": token_id}),
    ):
        answer = client.get(
            path,
            params={**params, "min_position": issued.json()["position"]},
            headers=admin.headers,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"] == [], answer.text
    listed = client.get("/api-tokens", headers=admin.headers)
    assert token_id not in listed.text
    # Nothing happened to them.
    assert client.get("/organizations", headers=bearer(victim_token)).status_code == 200


def _audit_of(meta: EventMeta, organization: Organization) -> Audit:
    site = organization.add_site(meta, "Plant", "Quay 1")
    start = utc_today() + timedelta(days=30)
    return Audit.plan(
        meta,
        organization_id=organization.id,
        site_ids=(site,),
        standard_template_id=uuid.uuid4(),
        standard_version=1,
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_type="stage_1",
        planned_start=start,
        planned_end=start + timedelta(days=1),
        scope_statement=f"Scope {uuid.uuid4().hex[:8]}",
    )


def test_a_client_user_cannot_read_another_clients_audit(
    client, server, mailbox, admin
):
    meta = EventMeta(admin.tenant, "setup", "e2e-setup", "e2e-setup")
    mine = Organization.register(meta, f"Own {uuid.uuid4().hex[:6]}", "GB")
    theirs = Organization.register(meta, f"Rival {uuid.uuid4().hex[:6]}", "GB")
    own_audit, their_audit = _audit_of(meta, mine), _audit_of(meta, theirs)
    position = server[1].event_store.append(mine, theirs, own_audit, their_audit)
    email, _ = invite(client, admin, "client", ["client_user"], [str(mine.id)])
    accept_invitation(client, mailbox, email)
    customer = Person(admin.tenant, email).log_in(client)

    own = client.get(
        f"/audits/{own_audit.id}",
        params={"min_position": position},
        headers=customer.headers,
    )
    assert own.status_code == 200, own.text
    hidden = (str(theirs.id), theirs.name, their_audit.scope_statement)
    answer = client.get(f"/audits/{their_audit.id}", headers=customer.headers)
    assert_refusal(answer, 404, *hidden)
    listed = client.get("/audits", params={"limit": "200"}, headers=customer.headers)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["items"]] == [str(own_audit.id)]
    assert all(h not in listed.text for h in hidden)
    # ... nor the security trail or the people of the tenant (its role may
    # not), nor the other client's organization (its scope hides it).
    for path, status in (
        ("/security-events", 403),
        ("/users", 403),
        (f"/organizations/{theirs.id}", 404),
    ):
        answer = client.get(path, headers=customer.headers)
        # (a 404 names the id asked for, nothing else)
        assert_refusal(answer, status, *hidden[1:], admin.email)


def test_every_refusal_of_an_unknown_caller_is_the_same(client):
    answers = [
        client.get("/me"),
        client.get("/me", headers={"Authorization": "Basic YWRhOnNlY3JldA=="}),
        client.get("/me", headers=bearer("ah_live_" + "x" * 43)),
        client.get("/users", headers=bearer(str(UUID(int=0)))),
    ]
    for answer in answers:
        assert_refusal(answer, 401)
