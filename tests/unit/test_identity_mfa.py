"""TOTP enrollment, the second login step and recovery codes."""

from __future__ import annotations

import base64

import pytest

from commands.identity.errors import InvalidOtpError, LockedOutError, LoginRefusedError
from commands.identity.sessions import MfaAttempt, MfaChallenge, TokenPair
from commands.tenant_settings import SetMfaPolicy
from domain.errors import RuleViolationError
from tests.unit.test_identity_world import TENANT, World


@pytest.fixture
def world():
    return World(guard_limit=3)


@pytest.fixture
def rita(world):
    return world.active_user(world.create_tenant())


def enroll(world, rita, session_id=None):
    """Enroll Rita; her secret and recovery codes."""
    ctx = world.ctx_of(rita, session_id)
    enrollment = world.mfa.start_enrollment(ctx)
    issued = world.mfa.confirm_enrollment(ctx, world.code_at(enrollment.secret))
    world.clock.advance(seconds=30)  # the next code is a new one
    return enrollment.secret, issued.recovery_codes


def challenge(world) -> MfaChallenge:
    answer = world.login()
    assert isinstance(answer, MfaChallenge)
    return answer


def test_enrollment_shows_the_secret_as_uri_and_qr_code(world, rita):
    enrollment = world.mfa.start_enrollment(world.ctx_of(rita))

    assert enrollment.provisioning_uri.startswith("otpauth://totp/")
    assert enrollment.secret in enrollment.provisioning_uri
    assert enrollment.qr_svg.lstrip().startswith("<?xml")
    assert base64.b64decode(enrollment.qr_png_base64).startswith(b"\x89PNG")
    assert not world.directory.account(rita).mfa_enrolled


def test_enrollment_is_confirmed_only_by_a_valid_code(world, rita):
    ctx = world.ctx_of(rita)
    enrollment = world.mfa.start_enrollment(ctx)
    with pytest.raises(InvalidOtpError):
        world.mfa.confirm_enrollment(ctx, "000000")
    assert not world.directory.account(rita).mfa_enrolled

    issued = world.mfa.confirm_enrollment(ctx, world.code_at(enrollment.secret))
    assert len(set(issued.recovery_codes)) == 10
    assert world.directory.account(rita).mfa_enrolled
    assert [e.method for e in world.events("account.mfa_enrolled")] == ["totp"]


def test_enrolling_twice_is_refused(world, rita):
    enroll(world, rita)
    with pytest.raises(RuleViolationError) as raised:
        world.mfa.start_enrollment(world.ctx_of(rita))
    assert raised.value.rule == "account.mfa_already_enrolled"


def test_login_with_mfa_needs_a_code_as_second_step(world, rita):
    secret, _ = enroll(world, rita)
    step = challenge(world)

    assert step.mfa_token.startswith("ah_mfa_")
    assert not world.events("account.login_succeeded")
    pair = world.sessions.verify_mfa(
        MfaAttempt(step.mfa_token, code=world.code_at(secret)), "r"
    )
    assert isinstance(pair, TokenPair)
    assert [e.method for e in world.events("account.login_succeeded")] == ["totp"]


def test_a_code_is_accepted_once(world, rita):
    secret, _ = enroll(world, rita)
    code = world.code_at(secret)
    world.sessions.verify_mfa(MfaAttempt(challenge(world).mfa_token, code=code), "r")

    with pytest.raises(InvalidOtpError):
        world.sessions.verify_mfa(
            MfaAttempt(challenge(world).mfa_token, code=code), "r"
        )
    assert [e.reason for e in world.events("account.login_failed")] == ["bad_otp"]


def test_the_mfa_token_works_once(world, rita):
    secret, _ = enroll(world, rita)
    token = challenge(world).mfa_token
    world.sessions.verify_mfa(MfaAttempt(token, code=world.code_at(secret)), "r")
    world.clock.advance(seconds=30)

    with pytest.raises(LoginRefusedError):
        world.sessions.verify_mfa(MfaAttempt(token, code=world.code_at(secret)), "r")


def test_one_step_of_clock_drift_is_allowed_not_two(world, rita):
    secret, _ = enroll(world, rita)
    world.clock.advance(minutes=5)  # far from the enrollment code's step
    with pytest.raises(InvalidOtpError):
        world.sessions.verify_mfa(
            MfaAttempt(challenge(world).mfa_token, code=world.code_at(secret, 2)), "r"
        )
    pair = world.sessions.verify_mfa(
        MfaAttempt(challenge(world).mfa_token, code=world.code_at(secret, -1)), "r"
    )
    assert pair.access_token


def test_wrong_codes_lock_the_second_step_out(world, rita):
    enroll(world, rita)
    token = challenge(world).mfa_token
    for _ in range(2):
        with pytest.raises(InvalidOtpError):
            world.sessions.verify_mfa(MfaAttempt(token, code="000000"), "r")
    with pytest.raises(LockedOutError):
        world.sessions.verify_mfa(MfaAttempt(token, code="000000"), "r")
    assert [e.stage for e in world.events("account.locked_out")] == ["otp"]


def test_a_recovery_code_works_once(world, rita):
    _, codes = enroll(world, rita)
    pair = world.sessions.verify_mfa(
        MfaAttempt(challenge(world).mfa_token, recovery_code=codes[0].lower()), "r"
    )
    assert pair.access_token

    with pytest.raises(InvalidOtpError):
        world.sessions.verify_mfa(
            MfaAttempt(challenge(world).mfa_token, recovery_code=codes[0]), "r"
        )
    assert [e.method for e in world.events("account.login_succeeded")] == [
        "recovery_code"
    ]


def test_regenerated_codes_replace_the_old_ones(world, rita):
    secret, old = enroll(world, rita)
    new = world.mfa.regenerate_recovery_codes(
        world.ctx_of(rita), world.code_at(secret)
    ).recovery_codes

    with pytest.raises(InvalidOtpError):
        world.sessions.verify_mfa(
            MfaAttempt(challenge(world).mfa_token, recovery_code=old[1]), "r"
        )
    world.sessions.verify_mfa(
        MfaAttempt(challenge(world).mfa_token, recovery_code=new[1]), "r"
    )
    assert len(world.events("account.recovery_codes_regenerated")) == 1


def test_regenerating_needs_a_fresh_code(world, rita):
    secret, _ = enroll(world, rita)
    code = world.code_at(secret)
    world.mfa.regenerate_recovery_codes(world.ctx_of(rita), code)
    with pytest.raises(InvalidOtpError):
        world.mfa.regenerate_recovery_codes(world.ctx_of(rita), code)


def test_enrolling_lifts_the_policy_restriction_of_the_session(world, rita):
    admin = world.directory.account_by_email(TENANT, f"admin@{TENANT}.test")
    world.settings.set_mfa_policy(world.ctx_of(admin.account_id), SetMfaPolicy(True))
    pair = world.logged_in()
    assert pair.mfa_enrollment_required

    enroll(world, rita, pair.session_id)
    assert not world.directory.session(pair.session_id).mfa_enrollment_pending
    assert isinstance(world.login(), MfaChallenge)


def test_an_admin_reset_removes_the_factor_and_ends_sessions(world, rita):
    secret, _ = enroll(world, rita)
    pair = world.sessions.verify_mfa(
        MfaAttempt(challenge(world).mfa_token, code=world.code_at(secret)), "r"
    )
    admin = world.directory.account_by_email(TENANT, f"admin@{TENANT}.test")
    world.accounts.reset_mfa(world.ctx_of(admin.account_id), rita)

    row = world.directory.account(rita)
    assert (row.mfa_enrolled, row.totp_secret, row.recovery_hashes) == (False, None, ())
    assert world.directory.session(pair.session_id).revoked_at is not None
    assert isinstance(world.login(), TokenPair)
