"""Identity over HTTP as people live it, against a server that takes only
tokens: the first way in, invitations, MFA, password resets, sessions that
end when they should, API tokens and the security trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx
import pytest

from infra.bootstrap import Container
from tests.e2e.identity_helpers import (
    NEW_PASSWORD,
    PASSWORD,
    WEAK_PASSWORD,
    AuthenticatorApp,
    Mailbox,
    Person,
    accept_invitation,
    assert_refusal,
    bearer,
    enroll,
    invite,
    invite_platform_admin,
    join,
    login,
    new_tenant,
    platform_admin,
    security_events,
    token_server,
    unique_email,
    wait_until,
)


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
def operator(client, server, mailbox) -> Person:
    return platform_admin(client, server[1], mailbox)


def register_organization(client: httpx.Client, admin: Person) -> tuple[str, int]:
    """A new organization's id and the position of its registration."""
    answer = client.post(
        "/organizations",
        json={"name": f"Client {uuid.uuid4().hex[:6]}", "country": "SE"},
        headers=admin.headers,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"]), int(answer.json()["position"])


def me(client: httpx.Client, person: Person) -> dict[str, Any]:
    answer = client.get("/me", headers=person.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_first_login_from_the_operator_invitation_to_a_staffed_tenant(
    client, server, mailbox
):
    # The operator's invitation (what `assurehub invite-platform-admin` does).
    operator_email = unique_email("operator")
    invite_platform_admin(server[1], operator_email)
    token = mailbox.token(operator_email, "ah_inv_")
    weak = client.post(
        "/auth/invitations/accept", json={"token": token, "password": WEAK_PASSWORD}
    )
    assert_refusal(weak, 422, WEAK_PASSWORD)
    assert weak.json()["errors"][0]["field"] == "password"
    accepted = client.post(
        "/auth/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    again = client.post(
        "/auth/invitations/accept", json={"token": token, "password": NEW_PASSWORD}
    )
    assert_refusal(again, 400, token)
    assert again.json()["code"] == "auth.invalid_token"
    operator = Person("platform", operator_email).log_in(client)
    assert me(client, operator)["roles"] == ["platform_admin"]

    # The operator creates a tenant; its administrator joins from the e-mail.
    admin = new_tenant(client, operator, mailbox, "flow")
    mine = me(client, admin)
    assert (mine["tenant"], mine["roles"]) == (admin.tenant, ["tenant_admin"])

    # The administrator invites a compliance officer and a client user.
    organization, _ = register_organization(client, admin)
    _, registered = register_organization(client, admin)  # another client's
    officer_email, _ = invite(client, admin, "officer", ["compliance_officer"])
    client_email, invited = invite(
        client, admin, "client", ["client_user"], [organization]
    )
    officer = join(client, mailbox, admin.tenant, officer_email)
    customer = join(client, mailbox, admin.tenant, client_email)
    assert me(client, officer)["roles"] == ["compliance_officer"]
    assert me(client, customer)["organization_ids"] == [organization]
    listed = client.get(
        "/organizations",
        headers=customer.headers,
        params={"limit": "200", "min_position": registered},
    )
    assert [o["id"] for o in listed.json()["items"]] == [organization]

    # The officer sees the tenant's people; nobody else's tenant.
    users = client.get(
        "/users",
        params={"min_position": invited["position"]},
        headers=officer.headers,
    )
    assert users.status_code == 200, users.text
    emails = {u["email"]: u for u in users.json()["items"]}
    assert set(emails) >= {admin.email, officer_email, client_email}
    assert operator_email not in emails
    assert emails[client_email]["roles"] == ["client_user"]

    # Without a token there is no caller, development headers or not.
    dev = client.get(
        "/organizations",
        headers={
            "X-Dev-Tenant": admin.tenant,
            "X-Dev-Actor": "mallory",
            "X-Dev-Roles": "tenant_admin",
        },
    )
    assert_refusal(dev, 401, organization)


def test_mfa_enrollment_second_step_and_recovery_codes(client, operator, mailbox):
    admin = new_tenant(client, operator, mailbox, "mfa")
    email, _ = invite(client, admin, "manager", ["programme_manager"])
    person = join(client, mailbox, admin.tenant, email)

    started = client.post("/me/mfa/totp", headers=person.headers)
    assert started.status_code == 200, started.text
    enrollment = started.json()
    assert enrollment["provisioning_uri"].startswith("otpauth://totp/")
    assert enrollment["qr_svg"].lstrip().startswith(("<svg", "<?xml"))
    # Confirming needs a valid code: a wrong one changes nothing.
    app = AuthenticatorApp(enrollment["secret"])
    wrong = client.post(
        "/me/mfa/totp/confirm", json={"code": app.wrong_code()}, headers=person.headers
    )
    assert_refusal(wrong, 400, enrollment["secret"])
    assert wrong.json()["code"] == "auth.invalid_otp"
    assert me(client, person)["mfa_enrolled"] is False
    confirmed = client.post(
        "/me/mfa/totp/confirm", json={"code": app.code()}, headers=person.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    recovery = confirmed.json()["recovery_codes"]
    assert len(set(recovery)) == 10
    assert me(client, person)["mfa_enrolled"] is True

    # The password alone no longer logs in: a second step is asked for.
    challenge = login(client, admin.tenant, email)
    assert challenge["status"] == "mfa_required"
    assert "access_token" not in challenge
    second = client.post(
        "/auth/login/mfa",
        json={"mfa_token": challenge["mfa_token"], "code": app.code()},
    )
    assert second.status_code == 200, second.text
    assert me(client, Person(admin.tenant, email, tokens=second.json()))["email"] == (
        email
    )

    # A recovery code logs in once.
    for expected in (200, 400):
        challenge = login(client, admin.tenant, email)
        answer = client.post(
            "/auth/login/mfa",
            json={"mfa_token": challenge["mfa_token"], "recovery_code": recovery[0]},
        )
        assert answer.status_code == expected, answer.text
    assert_refusal(answer, 400, recovery[0])


def test_tenant_mfa_policy_walks_users_through_enrollment_first(
    client, operator, mailbox
):
    admin = new_tenant(client, operator, mailbox, "policy")
    manager_email, _ = invite(client, admin, "manager", ["programme_manager"])
    officer_email, _ = invite(client, admin, "officer", ["compliance_officer"])
    accept_invitation(client, mailbox, manager_email)
    accept_invitation(client, mailbox, officer_email)
    policy = client.post(
        "/tenant/settings/mfa-policy",
        json={"required_for_all": False, "required_roles": ["programme_manager"]},
        headers=admin.headers,
    )
    assert policy.status_code == 200, policy.text

    manager = Person(admin.tenant, manager_email).log_in(client)
    assert manager.tokens["mfa_enrollment_required"] is True
    assert me(client, manager)["mfa_enrollment_required"] is True
    for method, path, body in (
        ("GET", "/organizations", None),
        ("GET", "/audits", None),
        ("POST", "/organizations", {"name": "Blocked Ltd", "country": "GB"}),
    ):
        answer = client.request(method, path, json=body, headers=manager.headers)
        assert_refusal(answer, 403)
        assert answer.json()["code"] == "auth.mfa_enrollment_required"

    # Enrolling lifts it for this very session.
    enroll(client, manager)
    assert client.get("/organizations", headers=manager.headers).status_code == 200
    assert me(client, manager)["mfa_enrollment_required"] is False
    # A role the policy does not name is not held to it.
    officer = Person(admin.tenant, officer_email).log_in(client)
    assert officer.tokens["mfa_enrollment_required"] is False
    assert client.get("/organizations", headers=officer.headers).status_code == 200


def test_password_reset_is_silent_single_use_and_ends_every_session(
    client, operator, mailbox
):
    admin = new_tenant(client, operator, mailbox, "reset")
    email, _ = invite(client, admin, "manager", ["programme_manager"])
    person = join(client, mailbox, admin.tenant, email)
    old = dict(person.tokens)

    for address in (email, unique_email("nobody")):
        asked = client.post(
            "/auth/password-resets", json={"tenant": admin.tenant, "email": address}
        )
        assert asked.status_code == 202, asked.text
        assert asked.content == b""
    token = mailbox.token(email, "ah_reset_")
    weak = client.post(
        "/auth/password-resets/confirm",
        json={"token": token, "new_password": WEAK_PASSWORD},
    )
    assert_refusal(weak, 422, WEAK_PASSWORD)
    done = client.post(
        "/auth/password-resets/confirm",
        json={"token": token, "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 204, done.text
    again = client.post(
        "/auth/password-resets/confirm",
        json={"token": token, "new_password": "amber-canyon-riddle-19"},
    )
    assert_refusal(again, 400, token)

    assert_refusal(client.get("/me", headers=bearer(old["access_token"])), 401)
    stale = client.post("/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert_refusal(stale, 401, old["refresh_token"])
    refused = client.post(
        "/auth/login",
        json={"tenant": admin.tenant, "email": email, "password": PASSWORD},
    )
    assert_refusal(refused, 401, email)
    assert login(client, admin.tenant, email, NEW_PASSWORD)["status"] == (
        "authenticated"
    )


def test_logout_and_password_change_take_effect_at_once(client, operator, mailbox):
    admin = new_tenant(client, operator, mailbox, "logout")
    email, _ = invite(client, admin, "manager", ["programme_manager"])
    person = join(client, mailbox, admin.tenant, email)

    # Refreshing rotates the pair; logout ends the session at once.
    refreshed = client.post(
        "/auth/refresh", json={"refresh_token": person.tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    person.tokens = refreshed.json()
    assert client.post("/auth/logout", headers=person.headers).status_code == 204
    assert_refusal(client.get("/me", headers=person.headers), 401)
    gone = client.post(
        "/auth/refresh", json={"refresh_token": person.tokens["refresh_token"]}
    )
    assert_refusal(gone, 401)

    # A password change ends every session, the one that made it too.
    first = Person(admin.tenant, email).log_in(client)
    second = Person(admin.tenant, email).log_in(client)
    wrong = client.post(
        "/me/password",
        json={"current_password": NEW_PASSWORD, "new_password": NEW_PASSWORD},
        headers=first.headers,
    )
    assert_refusal(wrong, 400, NEW_PASSWORD)
    assert wrong.json()["code"] == "auth.wrong_password"
    changed = client.post(
        "/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=first.headers,
    )
    assert changed.status_code == 204, changed.text
    for session in (first, second):
        assert_refusal(client.get("/me", headers=session.headers), 401)
    assert login(client, admin.tenant, email, NEW_PASSWORD)["status"] == (
        "authenticated"
    )


def test_role_revocation_and_deactivation_apply_on_the_next_request(
    client, operator, mailbox
):
    admin = new_tenant(client, operator, mailbox, "revoke")
    email, invited = invite(client, admin, "manager", ["programme_manager"])
    person = join(client, mailbox, admin.tenant, email)
    organization = {"name": "Allowed Ltd", "country": "GB"}
    created = client.post("/organizations", json=organization, headers=person.headers)
    assert created.status_code == 201, created.text

    roles = client.post(
        f"/users/{invited['id']}/roles",
        json={"roles": ["compliance_officer"]},
        headers=admin.headers,
    )
    assert roles.status_code == 200, roles.text
    refused = client.post("/organizations", json=organization, headers=person.headers)
    assert_refusal(refused, 403)
    assert refused.json()["code"] == "forbidden"
    assert me(client, person)["roles"] == ["compliance_officer"]

    deactivated = client.post(
        f"/users/{invited['id']}/deactivate", headers=admin.headers
    )
    assert deactivated.status_code == 200, deactivated.text
    assert_refusal(client.get("/me", headers=person.headers), 401, email)
    again = client.post(
        "/auth/login",
        json={"tenant": admin.tenant, "email": email, "password": PASSWORD},
    )
    assert_refusal(again, 401, email)
    # Deactivating oneself is refused.
    mine = me(client, admin)["account_id"]
    self_off = client.post(f"/users/{mine}/deactivate", headers=admin.headers)
    assert self_off.status_code == 409, self_off.text
    assert self_off.json()["code"] == "account.cannot_deactivate_self"


def test_api_tokens_are_shown_once_scoped_and_revocable(client, operator, mailbox):
    admin = new_tenant(client, operator, mailbox, "tokens")
    issued = client.post(
        "/api-tokens",
        json={
            "name": "ERP sync",
            "roles": ["compliance_officer"],
            "scopes": ["organization:read"],
        },
        headers=admin.headers,
    )
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    token, token_id = issued.json()["token"], issued.json()["id"]
    assert token.startswith("ah_live_")

    service = bearer(token)
    assert client.get("/organizations", headers=service).status_code == 200
    # compliance officers may read users, but the token's scopes do not say so
    assert_refusal(client.get("/users", headers=service), 403)

    listed = client.get("/api-tokens", headers=admin.headers)
    assert listed.status_code == 200, listed.text
    assert token not in listed.text
    assert token[12:] not in listed.text
    (mine,) = [t for t in listed.json() if t["id"] == token_id]
    assert mine["prefix"] == token[: len(mine["prefix"])]
    assert mine["scopes"] == ["organization:read"]
    assert mine["last_used_at"] is not None
    shown = client.get(f"/api-tokens/{token_id}", headers=admin.headers)
    assert shown.status_code == 200
    assert token[12:] not in shown.text

    revoked = client.post(f"/api-tokens/{token_id}/revoke", headers=admin.headers)
    assert revoked.status_code == 200, revoked.text
    assert_refusal(client.get("/organizations", headers=service), 401)
    assert client.get(f"/api-tokens/{token_id}", headers=admin.headers).json()[
        "revoked_at"
    ]


def test_compliance_officer_reads_the_security_trail(client, operator, mailbox):
    admin = new_tenant(client, operator, mailbox, "trail")
    officer_email, _ = invite(client, admin, "officer", ["compliance_officer"])
    officer = join(client, mailbox, admin.tenant, officer_email)
    victim_email, victim = invite(client, admin, "victim", ["programme_manager"])
    accept_invitation(client, mailbox, victim_email)

    # Wrong passwords until the account locks (5 by default).
    statuses = []
    for _ in range(5):
        answer = client.post(
            "/auth/login",
            json={"tenant": admin.tenant, "email": victim_email, "password": "x" * 12},
        )
        statuses.append(answer.status_code)
    assert statuses == [401] * 4 + [429]
    enroll(client, officer)
    roles = client.post(
        f"/users/{victim['id']}/roles",
        json={"roles": ["compliance_officer", "technical_reviewer"]},
        headers=admin.headers,
    )
    assert roles.status_code == 200, roles.text
    issued = client.post(
        "/api-tokens",
        json={"name": "Trail", "roles": ["compliance_officer"]},
        headers=admin.headers,
    )
    token_id = issued.json()["id"]
    revoked = client.post(f"/api-tokens/{token_id}/revoke", headers=admin.headers)
    assert revoked.status_code == 200, revoked.text

    caught_up = client.get(
        "/security-events",
        params={"min_position": revoked.json()["position"]},
        headers=officer.headers,
    )
    assert caught_up.status_code == 200, caught_up.text
    officer_id = me(client, officer)["account_id"]
    expected: list[tuple[str, str, dict[str, Any]]] = [
        ("account.login_succeeded", officer_id, {"method": "password"}),
        ("account.login_failed", victim["id"], {"reason": "bad_password"}),
        ("account.locked_out", victim["id"], {"stage": "password"}),
        ("account.mfa_enrolled", officer_id, {}),
        (
            "account.roles_granted",
            victim["id"],
            {"roles": ["compliance_officer", "technical_reviewer"]},
        ),
        ("account.roles_revoked", victim["id"], {"roles": ["programme_manager"]}),
        ("api_token.issued", token_id, {"roles": ["compliance_officer"]}),
        ("api_token.revoked", token_id, {}),
    ]
    for kind, subject, detail in expected:
        rows = wait_until(
            partial(security_events, client, officer, kind, subject),
            f"{kind} of {subject}",
        )
        assert rows[0]["detail"].items() >= detail.items(), rows[0]
    failures = security_events(client, officer, "account.login_failed", victim["id"])
    assert len(failures) == 5  # the fifth also locked the account
    assert failures[0]["detail"]["reason"] == "bad_password"
    assert victim_email not in caught_up.text


def test_tenants_whose_ids_give_one_code_are_given_different_codes(client, operator):
    stem = f"code{uuid.uuid4().hex[:6]}"
    answers = []
    for slug in (f"{stem}-x", f"{stem}x"):
        created = client.post(
            "/platform/tenants",
            json={
                "tenant_id": slug,
                "name": f"Tenant {slug}",
                "administrator": {"email": unique_email("code"), "name": "Cy Code"},
            },
            headers=operator.headers,
        )
        assert created.status_code == 201, created.text
        answers.append(created.json()["certificate_code"])
    assert answers == [f"{stem.upper()}X", f"{stem.upper()}X2"]
