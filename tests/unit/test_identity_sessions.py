"""Login, refresh and logout."""

from __future__ import annotations

import jwt
import pytest

from commands.identity.accounts import Invite
from commands.identity.errors import (
    LockedOutError,
    LoginRefusedError,
    RefreshRefusedError,
)
from commands.identity.sessions import TokenPair
from commands.tenant_settings import SetMfaPolicy
from domain.principal import Role
from tests.unit.test_identity_world import PASSWORD, TENANT, World


@pytest.fixture
def world():
    return World(guard_limit=3)


@pytest.fixture
def rita(world):
    return world.active_user(world.create_tenant())


def test_login_gives_an_access_token_naming_account_tenant_session_roles(world, rita):
    pair = world.login(address="203.0.113.9")

    assert isinstance(pair, TokenPair)
    claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    assert (claims["sub"], claims["tid"], claims["sid"], claims["roles"]) == (
        str(rita),
        TENANT,
        str(pair.session_id),
        ["auditor"],
    )
    assert (pair.expires_in, pair.refresh_expires_in) == (300, 14 * 24 * 3600)
    assert pair.refresh_token.startswith("ah_rt_")
    assert not pair.mfa_enrollment_required
    [event] = world.events("account.login_succeeded")
    assert (event.method, event.address, event.session_id) == (
        "password",
        "203.0.113.9",
        pair.session_id,
    )
    assert event.meta.actor_id == str(rita)


def test_unknown_email_and_wrong_password_look_the_same(world, rita):
    with pytest.raises(LoginRefusedError) as unknown:
        world.login("nobody@example.com")
    with pytest.raises(LoginRefusedError) as wrong:
        world.login(password="wrong password!")
    with pytest.raises(LoginRefusedError) as other_tenant:
        world.login(tenant="other-tenant")

    assert str(unknown.value) == str(wrong.value) == str(other_tenant.value)
    assert world.passwords.verifications == 3  # one each, known or not
    [failed] = world.events("account.login_failed")
    assert (failed.reason, failed.meta.actor_id) == ("bad_password", "anonymous")


def test_an_invited_account_cannot_log_in(world):
    admin = world.create_tenant()
    world.accounts.invite(
        world.ctx_of(admin), Invite("i@example.com", "I", {"auditor"})
    )
    with pytest.raises(LoginRefusedError):
        world.login("i@example.com")


def test_repeated_failures_lock_out_and_are_recorded(world, rita):
    for _ in range(2):
        with pytest.raises(LoginRefusedError):
            world.login(password="wrong password!", address="198.51.100.7")
    with pytest.raises(LockedOutError) as locked:
        world.login(password="wrong password!", address="198.51.100.7")

    assert locked.value.retry_after_seconds == 60
    [lockout] = world.events("account.locked_out")
    assert (lockout.stage, lockout.address) == ("password", "198.51.100.7")
    assert len(world.events("account.login_failed")) == 3


def test_while_locked_out_the_password_is_not_even_checked(world, rita):
    for _ in range(3):
        with pytest.raises((LoginRefusedError, LockedOutError)):
            world.login(password="wrong password!")
    checked = world.passwords.verifications

    with pytest.raises(LockedOutError):
        world.login()  # the right password
    assert world.passwords.verifications == checked


def test_a_guess_arriving_while_another_is_checked_is_refused_unchecked(world, rita):
    """Parallel guesses cannot all pass the lock check before any failure is
    counted: while one attempt on the account is being checked, the next is
    refused without its password being looked at."""
    account_key = f"login:acct:{TENANT}:rita@example.com"
    assert world.guard.begin(account_key)  # an attempt in progress elsewhere
    checked = world.passwords.verifications

    with pytest.raises(LockedOutError) as refused:
        world.login()  # even the right password
    assert refused.value.retry_after_seconds == 1
    assert world.passwords.verifications == checked

    world.guard.end(account_key)
    assert isinstance(world.login(), TokenPair)


def test_unknown_accounts_lock_out_like_known_ones(world, rita):
    for _ in range(2):
        with pytest.raises(LoginRefusedError):
            world.login("nobody@example.com")
    with pytest.raises(LockedOutError):
        world.login("nobody@example.com")


def test_refresh_rotates_and_a_reused_token_revokes_the_session(world, rita):
    first = world.logged_in()
    second = world.sessions.refresh(first.refresh_token, "r")

    assert second.session_id == first.session_id
    assert second.refresh_token != first.refresh_token
    with pytest.raises(RefreshRefusedError):
        world.sessions.refresh(first.refresh_token, "r")  # stolen copy replayed
    with pytest.raises(RefreshRefusedError):
        world.sessions.refresh(second.refresh_token, "r")  # the family is gone
    [revoked] = world.events("account.sessions_revoked")
    assert revoked.reason == "refresh_token_reused"
    assert world.directory.session(first.session_id).revoked_at is not None


def test_refresh_gives_roles_of_the_account_now(world, rita):
    pair = world.logged_in()
    admin = world.directory.account_by_email(TENANT, f"admin@{TENANT}.test")
    world.accounts.set_roles(
        world.ctx_of(admin.account_id), rita, frozenset({Role.TECHNICAL_REVIEWER})
    )
    renewed = world.sessions.refresh(pair.refresh_token, "r")

    claims = jwt.decode(renewed.access_token, options={"verify_signature": False})
    assert claims["roles"] == ["technical_reviewer"]


def test_a_session_expires(world, rita):
    pair = world.logged_in()
    world.clock.advance(days=14, seconds=1)
    with pytest.raises(RefreshRefusedError):
        world.sessions.refresh(pair.refresh_token, "r")


def test_logout_ends_the_session_at_once(world, rita):
    pair = world.logged_in()
    world.sessions.logout(world.ctx_of(rita, pair.session_id))

    assert world.directory.session(pair.session_id).revoked_at is not None
    with pytest.raises(RefreshRefusedError):
        world.sessions.refresh(pair.refresh_token, "r")
    [event] = world.events("account.logged_out")
    assert event.session_id == pair.session_id


def test_logout_ends_only_that_session(world, rita):
    one, two = world.logged_in(), world.logged_in()
    world.sessions.logout(world.ctx_of(rita, one.session_id))
    assert world.sessions.refresh(two.refresh_token, "r").access_token


def test_policy_requiring_mfa_gives_tokens_for_enrollment_only(world, rita):
    admin = world.directory.account_by_email(TENANT, f"admin@{TENANT}.test")
    world.settings.set_mfa_policy(
        world.ctx_of(admin.account_id), SetMfaPolicy(False, frozenset({"auditor"}))
    )
    pair = world.logged_in()

    assert pair.mfa_enrollment_required
    assert world.directory.session(pair.session_id).mfa_enrollment_pending
    assert world.sessions.refresh(pair.refresh_token, "r").mfa_enrollment_required
    assert not world.login(f"admin@{TENANT}.test", PASSWORD).mfa_enrollment_required


def test_a_policy_set_after_login_covers_the_session_at_its_next_refresh(world, rita):
    pair = world.logged_in()
    assert not pair.mfa_enrollment_required
    admin = world.directory.account_by_email(TENANT, f"admin@{TENANT}.test")
    world.settings.set_mfa_policy(
        world.ctx_of(admin.account_id), SetMfaPolicy(False, frozenset({"auditor"}))
    )

    assert world.sessions.refresh(pair.refresh_token, "r").mfa_enrollment_required
