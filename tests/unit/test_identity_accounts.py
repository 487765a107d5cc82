"""Account commands: invitations, passwords, deactivation."""

from __future__ import annotations

import pytest

from commands.identity.accounts import (
    AcceptInvitation,
    ChangePassword,
    Invite,
    ResetPassword,
)
from commands.identity.errors import (
    InvalidOneTimeTokenError,
    LockedOutError,
    LoginRefusedError,
    RefreshRefusedError,
    WrongPasswordError,
)
from domain.errors import InvalidValueError, PermissionDeniedError, RuleViolationError
from domain.principal import Role
from infra.identity.crypto import SecurityPasswords
from infra.identity.security.passwords import PasswordHasher, PasswordPolicy
from tests.unit.test_identity_world import PASSWORD, TENANT, World

NEW_PASSWORD = "a whole new passphrase"


@pytest.fixture
def world():
    return World()


@pytest.fixture
def admin(world):
    return world.create_tenant()


def test_invitation_mail_names_tenant_link_token_and_expiry(world, admin):
    world.accounts.invite(
        world.ctx_of(admin), Invite("Rita@Example.com ", "Rita", {Role.AUDITOR})
    )
    [mail] = [m for m in world.directory.outbox if m.recipient == "rita@example.com"]
    token = world.mailed_token("rita@example.com")

    assert "Acme Certification" in mail.body
    assert f"https://app.test/accept-invitation?token={token}" in mail.body
    assert "2026-03-05 09:00 UTC" in mail.body  # 72 hours after the invitation
    row = world.directory.account_by_email(TENANT, "rita@example.com")
    assert row is not None
    assert row.status == "invited"


def test_accepting_activates_and_lets_the_person_log_in(world, admin):
    rita = world.active_user(admin)

    assert world.directory.account(rita).status == "active"
    assert [e.meta.actor_id for e in world.events("account.activated")][-1] == str(rita)
    assert world.logged_in().access_token


def test_an_invitation_token_works_once(world, admin):
    world.accounts.invite(
        world.ctx_of(admin), Invite("r@example.com", "R", {"auditor"})
    )
    token = world.mailed_token("r@example.com")
    world.accounts.accept_invitation(AcceptInvitation(token, PASSWORD), "r1")

    with pytest.raises(InvalidOneTimeTokenError):
        world.accounts.accept_invitation(AcceptInvitation(token, PASSWORD), "r2")


def test_an_expired_invitation_is_refused_like_an_unknown_token(world, admin):
    world.accounts.invite(
        world.ctx_of(admin), Invite("r@example.com", "R", {"auditor"})
    )
    token = world.mailed_token("r@example.com")
    world.clock.advance(hours=73)

    with pytest.raises(InvalidOneTimeTokenError) as expired:
        world.accounts.accept_invitation(AcceptInvitation(token, PASSWORD), "r")
    with pytest.raises(InvalidOneTimeTokenError) as unknown:
        world.accounts.accept_invitation(AcceptInvitation("ah_inv_nope", PASSWORD), "r")
    assert str(expired.value) == str(unknown.value)


def test_a_reissued_invitation_replaces_the_old_link(world, admin):
    invited = world.accounts.invite(
        world.ctx_of(admin), Invite("r@example.com", "R", {"auditor"})
    )
    old = world.mailed_token("r@example.com")
    world.accounts.reissue_invitation(world.ctx_of(admin), invited.id)
    new = world.mailed_token("r@example.com")

    with pytest.raises(InvalidOneTimeTokenError):
        world.accounts.accept_invitation(AcceptInvitation(old, PASSWORD), "r")
    world.accounts.accept_invitation(AcceptInvitation(new, PASSWORD), "r")


def test_a_weak_password_is_refused_with_the_reason(world, admin):
    world.accounts.invite(
        world.ctx_of(admin), Invite("r@example.com", "R", {"auditor"})
    )
    token = world.mailed_token("r@example.com")

    with pytest.raises(InvalidValueError) as raised:
        world.accounts.accept_invitation(AcceptInvitation(token, "short"), "r")
    assert raised.value.field == "password"
    assert "12 characters" in raised.value.detail
    world.accounts.accept_invitation(AcceptInvitation(token, PASSWORD), "r")


def test_an_email_is_taken_once_per_tenant(world, admin):
    world.accounts.invite(
        world.ctx_of(admin), Invite("r@example.com", "R", {"auditor"})
    )

    with pytest.raises(RuleViolationError) as raised:
        world.accounts.invite(
            world.ctx_of(admin), Invite("R@EXAMPLE.COM", "Other", {"auditor"})
        )
    assert raised.value.rule == "account.email_taken"


def test_only_tenant_admins_invite(world, admin):
    rita = world.active_user(admin)
    with pytest.raises(PermissionDeniedError):
        world.accounts.invite(
            world.ctx_of(rita), Invite("x@example.com", "X", {"auditor"})
        )


def test_changing_the_password_ends_every_session(world, admin):
    rita = world.active_user(admin)
    pair = world.logged_in()
    world.accounts.change_password(
        world.ctx_of(rita, pair.session_id), ChangePassword(PASSWORD, NEW_PASSWORD)
    )

    assert world.directory.session(pair.session_id).revoked_at is not None
    with pytest.raises(RefreshRefusedError):
        world.sessions.refresh(pair.refresh_token, "r")
    with pytest.raises(LoginRefusedError):
        world.login(password=PASSWORD)
    assert world.login(password=NEW_PASSWORD).access_token
    [revoked] = world.events("account.sessions_revoked")
    assert revoked.reason == "password_changed"


def test_changing_the_password_needs_the_current_one(world, admin):
    rita = world.active_user(admin)
    with pytest.raises(WrongPasswordError):
        world.accounts.change_password(
            world.ctx_of(rita), ChangePassword("not my password", NEW_PASSWORD)
        )


def test_guessing_the_current_password_locks_the_accounts_logins(world, admin):
    """A stolen access token does not give unlimited guesses at the current
    password: wrong ones count toward the account's login lockout."""
    rita = world.active_user(admin)
    outcomes = []
    for _ in range(world.guard.limit):
        with pytest.raises((WrongPasswordError, LockedOutError)) as refused:
            world.accounts.change_password(
                world.ctx_of(rita), ChangePassword("not my password", NEW_PASSWORD)
            )
        outcomes.append(type(refused.value))
    assert outcomes[-1] is LockedOutError
    with pytest.raises(LockedOutError):
        world.login()  # the right password, but the account is locked


def test_a_reset_link_sets_a_new_password_once(world, admin):
    world.active_user(admin)
    pair = world.logged_in()
    world.accounts.request_password_reset(TENANT, "RITA@example.com", "r")
    token = world.mailed_token("rita@example.com")
    world.accounts.reset_password(ResetPassword(token, NEW_PASSWORD), "r")

    assert world.directory.session(pair.session_id).revoked_at is not None
    assert world.login(password=NEW_PASSWORD).access_token
    with pytest.raises(InvalidOneTimeTokenError):
        world.accounts.reset_password(ResetPassword(token, "yet another phrase"), "r")
    assert [e.reason for e in world.events("account.password_changed")] == ["reset"]


def test_a_reset_link_expires_after_an_hour(world, admin):
    world.active_user(admin)
    world.accounts.request_password_reset(TENANT, "rita@example.com", "r")
    token = world.mailed_token("rita@example.com")
    world.clock.advance(minutes=61)

    with pytest.raises(InvalidOneTimeTokenError):
        world.accounts.reset_password(ResetPassword(token, NEW_PASSWORD), "r")


def test_a_newer_reset_link_replaces_the_older(world, admin):
    world.active_user(admin)
    world.accounts.request_password_reset(TENANT, "rita@example.com", "r")
    old = world.mailed_token("rita@example.com")
    world.accounts.request_password_reset(TENANT, "rita@example.com", "r")

    with pytest.raises(InvalidOneTimeTokenError):
        world.accounts.reset_password(ResetPassword(old, NEW_PASSWORD), "r")


def test_a_reset_for_an_unknown_email_writes_nothing(world, admin):
    before = (len(world.events()), len(world.directory.outbox))
    world.accounts.request_password_reset(TENANT, "nobody@example.com", "r")
    world.accounts.request_password_reset("other-tenant", f"admin@{TENANT}.test", "r")

    assert (len(world.events()), len(world.directory.outbox)) == before


def test_a_deactivated_account_cannot_log_in_and_its_sessions_end(world, admin):
    rita = world.active_user(admin)
    pair = world.logged_in()
    world.accounts.deactivate(world.ctx_of(admin), rita)

    assert world.directory.account(rita).status == "deactivated"
    assert world.directory.session(pair.session_id).revoked_at is not None
    with pytest.raises(RefreshRefusedError):
        world.sessions.refresh(pair.refresh_token, "r")
    with pytest.raises(LoginRefusedError):
        world.login()
    assert [e.reason for e in world.events("account.login_failed")] == ["not_active"]


def test_deactivation_voids_an_unused_reset_link(world, admin):
    rita = world.active_user(admin)
    world.accounts.request_password_reset(TENANT, "rita@example.com", "r")
    token = world.mailed_token("rita@example.com")
    world.accounts.deactivate(world.ctx_of(admin), rita)
    world.accounts.reactivate(world.ctx_of(admin), rita)

    with pytest.raises(InvalidOneTimeTokenError):
        world.accounts.reset_password(ResetPassword(token, NEW_PASSWORD), "r")
    assert world.logged_in().access_token


def test_new_roles_reach_the_account_row(world, admin):
    rita = world.active_user(admin)
    world.accounts.set_roles(
        world.ctx_of(admin), rita, frozenset({"auditor", "technical_reviewer"})
    )
    assert world.directory.account(rita).roles == ("auditor", "technical_reviewer")


def test_the_real_argon2_adapter_protects_the_password():
    passwords = SecurityPasswords(
        PasswordHasher(time_cost=1, memory_kib=8, parallelism=1), PasswordPolicy()
    )
    world = World(passwords=passwords)
    admin = world.create_tenant()
    rita = world.active_user(admin)

    row = world.directory.account(rita)
    assert row is not None
    assert row.password_hash is not None
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert world.logged_in().access_token
    with pytest.raises(LoginRefusedError):
        world.login(password="not the password at all")
    assert passwords.weakness("password1234", "r@example.com", "R") is not None


def test_the_last_tenant_administrator_cannot_be_demoted(world, admin):
    """(Nor deactivated: only an active administrator deactivates, never
    themself, so another one always remains.)"""
    with pytest.raises(RuleViolationError) as demoted:
        world.accounts.set_roles(world.ctx_of(admin), admin, {"auditor"})
    assert demoted.value.rule == "account.last_tenant_admin"
    second = world.active_user(admin, "sam@example.com", frozenset({Role.TENANT_ADMIN}))

    world.accounts.set_roles(world.ctx_of(admin), admin, {"auditor"})  # two: fine
    assert world.directory.tenant_admins(TENANT) == {second}
    with pytest.raises(RuleViolationError) as last:
        world.accounts.set_roles(world.ctx_of(second), second, {"auditor"})
    assert last.value.rule == "account.last_tenant_admin"
    with pytest.raises(RuleViolationError) as deactivated:
        world.accounts.deactivate(world.ctx_of(second), second)
    assert deactivated.value.rule == "account.cannot_deactivate_self"
