"""Account aggregate: given events, when a command, then events or an error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from domain.account import Account
from domain.account_values import CLIENT_ROLES, EMAIL_MAX, NAME_MAX, AccountStatus
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta
from domain.principal import Role
from infra.streaming.event_schemas import schema
from infra.streaming.public_events import to_envelope

META = EventMeta("acme-cert", "admin-1", "req-1", "req-1")
PLATFORM = EventMeta("platform", "root-1", "req-1", "req-1")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(hours=72)
ORG_A = UUID("00000000-0000-4000-8000-00000000000a")
ORG_B = UUID("00000000-0000-4000-8000-00000000000b")
SESSION = UUID("00000000-0000-4000-8000-0000000000ff")
LONG_DOMAIN = "b" * 58 + "@" + ".".join(["x" * 63] * 3) + ".com"


def invited(
    roles: tuple[str, ...] = ("auditor",),
    organization_ids: tuple[UUID, ...] = (),
    meta: EventMeta = META,
) -> Account:
    account = Account.invite(
        meta, "bob@example.com", "Bob Baker", roles, organization_ids, EXPIRES
    )
    account.collect_events()
    return account


def active(**kwargs: object) -> Account:
    account = invited(**kwargs)  # type: ignore[arg-type]
    account.activate(META, NOW)
    account.collect_events()
    return account


def deactivated(was_active: bool = True) -> Account:
    account = active() if was_active else invited()
    account.deactivate(META)
    account.collect_events()
    return account


def enrolled() -> Account:
    account = active()
    account.enroll_mfa(META)
    account.collect_events()
    return account


def refused(rule: str, account: Account, command: str, *args: object) -> None:
    """Then ``command`` is refused with ``rule`` and records nothing."""
    version = account.version
    with pytest.raises(RuleViolationError) as raised:
        getattr(account, command)(*args)
    assert raised.value.rule == rule
    assert str(account.id) in raised.value.detail
    assert account.collect_events() == []
    assert account.version == version


# --- invite -----------------------------------------------------------------


def test_invite_records_normalised_email_and_name_sorted_roles_and_orgs():
    account = Account.invite(
        META,
        "  Bob.Baker+ISO@Example.CO.UK ",
        "  Bob   Baker ",
        ["client_user", "client_admin"],
        [ORG_B, ORG_A, ORG_B],
        EXPIRES,
    )

    [event] = account.collect_events()
    assert isinstance(event, Account.Invited)
    assert (event.email, event.name) == ("bob.baker+iso@example.co.uk", "Bob Baker")
    assert event.roles == ("client_admin", "client_user")
    assert event.organization_ids == (ORG_A, ORG_B)
    assert event.expires_at == EXPIRES
    assert account.status is AccountStatus.INVITED
    assert account.roles == {Role.CLIENT_ADMIN, Role.CLIENT_USER}
    assert account.organization_ids == {ORG_A, ORG_B}
    assert (account.tenant_id, account.invitation_expires_at) == ("acme-cert", EXPIRES)
    assert not account.is_active
    assert account.is_client
    assert not account.mfa_enrolled


def test_expiry_in_another_zone_is_kept_in_utc():
    account = Account.invite(
        META,
        "a@b.io",
        "A",
        ["auditor"],
        [],
        datetime(2026, 3, 4, 14, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    assert account.invitation_expires_at == datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "bob",
        "bob@",
        "@example.com",
        "bob@example",
        "bob@@example.com",
        "bob @example.com",
        "bob@exa mple.com",
        "bob@-example.com",
        "bob@example.c",
        "bob@example..com",
        ".bob@example.com",
        "bob.@example.com",
        "bob,eve@example.com",
        "Bob <bob@example.com>",
        "bob@example.com\r\nBcc: eve@example.com",
        "x" * 65 + "@example.com",
        "b@" + "x" * 64 + ".com",
        "b@example." + "x" * 64,
        LONG_DOMAIN.replace("@", "x@"),
    ],
)
def test_invite_refuses_what_is_not_an_email_address(email):
    with pytest.raises(InvalidValueError) as raised:
        Account.invite(META, email, "Bob", ["auditor"], [], EXPIRES)
    assert raised.value.field == "email"


def test_an_address_of_254_characters_is_the_longest_accepted():
    assert len(LONG_DOMAIN) == EMAIL_MAX
    account = Account.invite(META, LONG_DOMAIN.upper(), "B", ["auditor"], [], EXPIRES)
    assert account.email == LONG_DOMAIN


@pytest.mark.parametrize("name", ["", "  \t ", "x" * (NAME_MAX + 1)])
def test_invite_refuses_a_blank_or_over_long_name(name):
    with pytest.raises(InvalidValueError) as raised:
        Account.invite(META, "bob@example.com", name, ["auditor"], [], EXPIRES)
    assert raised.value.field == "name"


@pytest.mark.parametrize("roles", [[], ["auditor", "root"], ["Auditor"]])
def test_invite_refuses_no_or_unknown_roles(roles):
    with pytest.raises(InvalidValueError) as raised:
        Account.invite(META, "bob@example.com", "Bob", roles, [], EXPIRES)
    assert raised.value.field == "roles"


def test_invite_refuses_a_naive_expiry():
    with pytest.raises(InvalidValueError) as raised:
        Account.invite(
            META, "bob@example.com", "Bob", ["auditor"], [], datetime(2026, 3, 4)
        )
    assert raised.value.field == "expires_at"


@pytest.mark.parametrize(
    ("meta", "roles", "orgs", "rule"),
    [
        (PLATFORM, ["tenant_admin"], [], "account.platform_tenant_platform_admin_only"),
        (
            PLATFORM,
            ["platform_admin", "auditor"],
            [],
            "account.platform_tenant_platform_admin_only",
        ),
        (META, ["platform_admin"], [], "account.platform_role_outside_platform"),
        (
            META,
            ["tenant_admin", "platform_admin"],
            [],
            "account.platform_role_outside_platform",
        ),
        (META, ["client_user", "auditor"], [ORG_A], "account.client_roles_exclusive"),
        (META, ["client_admin"], [], "account.client_needs_organization"),
        (
            META,
            ["auditor"],
            [ORG_A],
            "account.organization_scope_for_clients_only",
        ),
    ],
)
def test_invite_refuses_roles_that_break_a_role_rule(meta, roles, orgs, rule):
    with pytest.raises(RuleViolationError) as raised:
        Account.invite(meta, "bob@example.com", "Bob", roles, orgs, EXPIRES)
    assert raised.value.rule == rule


def test_a_platform_admin_is_invited_in_the_platform_tenant():
    account = invited(("platform_admin",), meta=PLATFORM)
    assert (account.tenant_id, account.roles) == (
        "platform",
        frozenset({Role.PLATFORM_ADMIN}),
    )


# --- invitation and activation ------------------------------------------------


def test_reissue_invitation_moves_the_expiry():
    account = invited()
    later = EXPIRES + timedelta(days=3)
    account.reissue_invitation(META, later)
    [event] = account.collect_events()
    assert isinstance(event, Account.InvitationReissued)
    assert event.expires_at == account.invitation_expires_at == later


def test_reissue_invitation_only_while_invited():
    refused("account.not_invited", active(), "reissue_invitation", META, EXPIRES)
    refused(
        "account.not_invited", deactivated(False), "reissue_invitation", META, EXPIRES
    )


def test_activate_before_expiry_makes_the_account_active():
    account = invited()
    account.activate(META, EXPIRES)
    [event] = account.collect_events()
    assert isinstance(event, Account.Activated)
    assert account.status is AccountStatus.ACTIVE
    assert account.is_active
    assert account.invitation_expires_at is None


def test_activate_after_expiry_is_refused_until_reissued():
    account = invited()
    late = EXPIRES + timedelta(seconds=1)
    refused("account.invitation_expired", account, "activate", META, late)
    account.reissue_invitation(META, late + timedelta(hours=1))
    account.activate(META, late)
    assert account.is_active


def test_activate_only_while_invited():
    refused("account.not_invited", active(), "activate", META, NOW)
    refused("account.not_invited", deactivated(False), "activate", META, NOW)


def test_activate_refuses_a_naive_now():
    with pytest.raises(InvalidValueError) as raised:
        invited().activate(META, datetime(2026, 3, 1))
    assert raised.value.field == "now"


# --- passwords ----------------------------------------------------------------


@pytest.mark.parametrize("reason", ["changed", "reset"])
def test_change_password_records_the_reason(reason):
    account = active()
    account.change_password(META, reason)
    [event] = account.collect_events()
    assert isinstance(event, Account.PasswordChanged)
    assert event.reason == reason


def test_change_password_refuses_an_unknown_reason():
    with pytest.raises(InvalidValueError) as raised:
        active().change_password(META, "forgot")
    assert raised.value.field == "reason"


def test_passwords_change_only_on_active_accounts():
    refused("account.not_active", invited(), "change_password", META, "changed")
    refused("account.not_active", deactivated(), "change_password", META, "reset")


def test_password_reset_is_requested_only_on_active_accounts():
    account = active()
    account.request_password_reset(META, NOW + timedelta(hours=1))
    [event] = account.collect_events()
    assert isinstance(event, Account.PasswordResetRequested)
    assert account.password_reset_expires_at == NOW + timedelta(hours=1)
    for other in (invited(), deactivated()):
        refused("account.not_active", other, "request_password_reset", META, NOW)
    with pytest.raises(InvalidValueError):
        account.request_password_reset(META, datetime(2026, 3, 1))


# --- roles ------------------------------------------------------------------


def test_set_roles_records_only_what_was_granted_and_revoked():
    account = active(roles=("auditor", "technical_reviewer"))
    account.set_roles(META, ["auditor", "decision_maker", "compliance_officer"], [])

    granted, revoked = account.collect_events()
    assert isinstance(granted, Account.RolesGranted)
    assert granted.roles == ("compliance_officer", "decision_maker")
    assert isinstance(revoked, Account.RolesRevoked)
    assert revoked.roles == ("technical_reviewer",)
    assert account.roles == {
        Role.AUDITOR,
        Role.DECISION_MAKER,
        Role.COMPLIANCE_OFFICER,
    }


def test_set_roles_with_only_a_new_organization_records_only_the_scope():
    account = active(roles=("client_user",), organization_ids=(ORG_A,))
    account.set_roles(META, ["client_user"], [ORG_B, ORG_A])
    [event] = account.collect_events()
    assert isinstance(event, Account.OrganizationScopeChanged)
    assert event.organization_ids == (ORG_A, ORG_B)
    assert account.organization_ids == {ORG_A, ORG_B}


def test_a_staff_member_can_become_a_client_user_in_one_command():
    account = active(roles=("auditor",))
    account.set_roles(META, ["client_user"], [ORG_A])
    kinds = [type(e) for e in account.collect_events()]
    assert kinds == [
        Account.RolesGranted,
        Account.RolesRevoked,
        Account.OrganizationScopeChanged,
    ]
    assert (account.roles, account.organization_ids) == (
        frozenset({Role.CLIENT_USER}),
        frozenset({ORG_A}),
    )


def test_set_roles_to_the_current_ones_is_refused():
    account = active(roles=("client_admin",), organization_ids=(ORG_A,))
    refused(
        "account.roles_unchanged", account, "set_roles", META, ["client_admin"], [ORG_A]
    )


def test_set_roles_is_refused_on_a_deactivated_account():
    refused(
        "account.deactivated", deactivated(), "set_roles", META, ["tenant_admin"], []
    )


def test_set_roles_is_allowed_on_an_invited_account():
    account = invited()
    account.set_roles(META, ["programme_manager"], [])
    assert account.roles == {Role.PROGRAMME_MANAGER}


@pytest.mark.parametrize(
    ("roles", "orgs", "rule"),
    [
        (["platform_admin"], [], "account.platform_role_outside_platform"),
        (["client_user", "tenant_admin"], [ORG_A], "account.client_roles_exclusive"),
        (["client_user"], [], "account.client_needs_organization"),
        (["auditor"], [ORG_A], "account.organization_scope_for_clients_only"),
    ],
)
def test_set_roles_keeps_the_role_rules(roles, orgs, rule):
    refused(rule, active(), "set_roles", META, roles, orgs)


def test_set_roles_refuses_no_or_unknown_roles():
    for roles in ([], ["god"]):
        with pytest.raises(InvalidValueError) as raised:
            active().set_roles(META, roles, [])
        assert raised.value.field == "roles"


def test_a_platform_admin_stays_a_platform_admin():
    account = invited(("platform_admin",), meta=PLATFORM)
    refused(
        "account.platform_tenant_platform_admin_only",
        account,
        "set_roles",
        PLATFORM,
        ["platform_admin", "tenant_admin"],
        [],
    )


# --- deactivation -----------------------------------------------------------


def test_deactivate_and_reactivate_an_active_account():
    account = active()
    account.deactivate(META)
    assert account.status is AccountStatus.DEACTIVATED
    assert not account.is_active
    account.reactivate(META)
    deactivated_, reactivated = account.collect_events()
    assert isinstance(deactivated_, Account.Deactivated)
    assert isinstance(reactivated, Account.Reactivated)
    assert account.status.value == AccountStatus.ACTIVE.value


def test_a_never_activated_account_is_reactivated_as_invited():
    account = deactivated(was_active=False)
    account.reactivate(META)
    assert account.status is AccountStatus.INVITED


def test_deactivate_twice_is_refused():
    refused("account.already_deactivated", deactivated(), "deactivate", META)


def test_an_admin_cannot_deactivate_themself():
    account = active(roles=("tenant_admin",))
    self_meta = EventMeta("acme-cert", str(account.id), "req-2", "req-2")
    refused("account.cannot_deactivate_self", account, "deactivate", self_meta)


def test_reactivate_only_a_deactivated_account():
    refused("account.not_deactivated", active(), "reactivate", META)
    refused("account.not_deactivated", invited(), "reactivate", META)


# --- MFA --------------------------------------------------------------------


def test_enroll_mfa_records_totp():
    account = active()
    account.enroll_mfa(META)
    [event] = account.collect_events()
    assert isinstance(event, Account.MfaEnrolled)
    assert event.method == "totp"
    assert account.mfa_enrolled


def test_enroll_mfa_only_once_and_only_when_active():
    refused("account.mfa_already_enrolled", enrolled(), "enroll_mfa", META)
    refused("account.not_active", invited(), "enroll_mfa", META)
    refused("account.not_active", deactivated(), "enroll_mfa", META)


def test_reset_mfa_removes_the_factor_even_of_a_deactivated_account():
    account = enrolled()
    account.deactivate(META)
    account.reset_mfa(META)
    assert isinstance(account.collect_events()[-1], Account.MfaReset)
    assert not account.mfa_enrolled


def test_reset_mfa_needs_an_enrolled_account():
    refused("account.mfa_not_enrolled", active(), "reset_mfa", META)


def test_recovery_codes_are_regenerated_only_with_mfa_on_an_active_account():
    account = enrolled()
    account.regenerate_recovery_codes(META)
    [event] = account.collect_events()
    assert isinstance(event, Account.RecoveryCodesRegenerated)
    refused("account.mfa_not_enrolled", active(), "regenerate_recovery_codes", META)
    account.deactivate(META)
    account.collect_events()
    refused("account.not_active", account, "regenerate_recovery_codes", META)


# --- security events ----------------------------------------------------------


def test_a_login_is_recorded_with_method_address_and_session():
    account = enrolled()
    account.record_login_succeeded(META, "recovery_code", " 203.0.113.9 ", SESSION)
    [event] = account.collect_events()
    assert isinstance(event, Account.LoginSucceeded)
    assert (event.method, event.address, event.session_id) == (
        "recovery_code",
        "203.0.113.9",
        SESSION,
    )


def test_a_login_succeeds_only_on_an_active_account():
    for account in (invited(), deactivated()):
        refused(
            "account.not_active",
            account,
            "record_login_succeeded",
            META,
            "password",
            None,
            SESSION,
        )


@pytest.mark.parametrize(
    ("command", "args", "field"),
    [
        ("record_login_succeeded", ("passkey", None, SESSION), "method"),
        ("record_login_succeeded", ("password", "x" * 256, SESSION), "address"),
        ("record_login_failed", ("wrong", None), "reason"),
        ("record_locked_out", ("totp", NOW, None), "stage"),
        ("record_locked_out", ("otp", datetime(2026, 3, 1), None), "until"),
        ("record_sessions_revoked", ("Because!",), "reason"),
        ("record_sessions_revoked", ("",), "reason"),
    ],
)
def test_security_events_refuse_unknown_values(command, args, field):
    account = active()
    with pytest.raises(InvalidValueError) as raised:
        getattr(account, command)(META, *args)
    assert raised.value.field == field
    assert account.collect_events() == []


@pytest.mark.parametrize("make", [invited, active, deactivated])
def test_failures_lockouts_logouts_and_revocations_are_recorded_in_any_status(make):
    account = make()
    account.record_login_failed(META, "not_active", "2001:db8::1")
    account.record_locked_out(META, "password", NOW + timedelta(minutes=5), "")
    account.record_logout(META, SESSION)
    account.record_sessions_revoked(META, "refresh_token_reused")
    failed, locked, logged_out, revoked = account.collect_events()
    assert (failed.reason, failed.address) == ("not_active", "2001:db8::1")
    assert (locked.stage, locked.until, locked.address) == (
        "password",
        NOW + timedelta(minutes=5),
        None,
    )
    assert logged_out.session_id == SESSION
    assert revoked.reason == "refresh_token_reused"


def test_every_event_publishes_as_plain_json():
    account = Account.invite(
        META, "bob@example.com", "Bob", ["client_user"], [ORG_B, ORG_A], EXPIRES
    )
    account.activate(META, NOW)
    account.set_roles(META, ["client_admin"], [ORG_A])
    account.record_login_succeeded(META, "password", "203.0.113.9", SESSION)
    account.record_locked_out(META, "otp", NOW, None)
    account.enroll_mfa(META)
    events = account.collect_events()
    envelopes = [to_envelope(e, position=i, source="/t") for i, e in enumerate(events)]
    data = [e.data for e in envelopes]
    assert json.loads(json.dumps(data)) == data
    by_type = {e.type: e.data for e in envelopes}
    assert data[0] == {
        "email": "bob@example.com",
        "name": "Bob",
        "roles": ["client_user"],
        "organization_ids": [str(ORG_A), str(ORG_B)],
        "expires_at": "2026-03-04T12:00:00+00:00",
    }
    assert by_type["assurehub.account.login_succeeded.v1"] == {
        "method": "password",
        "address": "203.0.113.9",
        "session_id": str(SESSION),
    }
    assert by_type["assurehub.account.locked_out.v1"]["until"] == (
        "2026-03-01T12:00:00+00:00"
    )
    assert by_type["assurehub.account.organization_scope_changed.v1"] == {
        "organization_ids": [str(ORG_A)]
    }


def test_personal_fields_are_declared_on_the_event_classes():
    personal = {
        name: getattr(Account, name).PERSONAL
        for name in (
            "Invited",
            "LoginSucceeded",
            "LoginFailed",
            "LockedOut",
            "Activated",
        )
    }
    assert personal == {
        "Invited": {"email", "name"},
        "LoginSucceeded": {"address"},
        "LoginFailed": {"address"},
        "LockedOut": {"address"},
        "Activated": frozenset(),
    }


def test_the_published_schemas_mark_exactly_the_personal_fields():
    def marked(event_class: type) -> set[str]:
        properties = schema(event_class)["properties"]
        return {name for name, p in properties.items() if p.get("x-personal")}

    assert marked(Account.Invited) == {"email", "name"}
    assert marked(Account.LoginFailed) == {"address"}
    assert marked(Account.LoggedOut) == set()


# --- the lifecycle, as a property -------------------------------------------

ALLOWED_MOVES = {
    (AccountStatus.INVITED, AccountStatus.ACTIVE),
    (AccountStatus.INVITED, AccountStatus.DEACTIVATED),
    (AccountStatus.ACTIVE, AccountStatus.DEACTIVATED),
    (AccountStatus.DEACTIVATED, AccountStatus.ACTIVE),
    (AccountStatus.DEACTIVATED, AccountStatus.INVITED),
}
ORGS = [ORG_A, ORG_B, UUID(int=3)]
TENANT_ROLES = [r.value for r in Role if r is not Role.PLATFORM_ADMIN]
STAFF_ROLES = [r for r in TENANT_ROLES if r not in CLIENT_ROLES]
roles_st = st.frozensets(st.sampled_from([*TENANT_ROLES, "platform_admin"]), max_size=3)
orgs_st = st.frozensets(st.sampled_from(ORGS), max_size=2)
times = st.integers(min_value=-5, max_value=5).map(
    lambda h: EXPIRES + timedelta(hours=h)
)


class AccountLifecycle(RuleBasedStateMachine):
    """Random commands on one account; refused ones change nothing, and the
    account always keeps its invariants."""

    account: Account

    @initialize(
        roles=st.sampled_from(
            [(["client_user"], [ORG_A]), (["client_admin"], ORGS), (["auditor"], [])]
        )
    )
    def invite(self, roles: tuple[list[str], list[UUID]]) -> None:
        self.account = Account.invite(
            META, "bob@example.com", "Bob", roles[0], roles[1], EXPIRES
        )
        self.events = self.account.collect_events()
        self.before = self.snapshot()
        self.ever_active = False
        self.enrolled = False

    def snapshot(self) -> tuple[AccountStatus, frozenset[Role], frozenset[UUID], int]:
        a = self.account
        return (a.status, a.roles, a.organization_ids, a.version)

    def attempt(self, command: str, *args: object) -> bool:
        """Whether ``command`` was accepted."""
        self.before = self.snapshot()
        try:
            getattr(self.account, command)(META, *args)
        except RuleViolationError:
            assert self.snapshot() == self.before, "a refused command changed state"
            assert self.account.collect_events() == []
            return False
        finally:
            self.events = [*self.events, *self.account.collect_events()]
            self.ever_active |= self.account.is_active
        return True

    @rule(now=times)
    def activate(self, now: datetime) -> None:
        self.attempt("activate", now)

    @rule(expires_at=times)
    def reissue(self, expires_at: datetime) -> None:
        self.attempt("reissue_invitation", expires_at)

    @rule(roles=roles_st, orgs=orgs_st)
    def set_any_roles(self, roles: frozenset[str], orgs: frozenset[UUID]) -> None:
        self.attempt("set_roles", roles, orgs)

    @rule(
        staff=st.frozensets(st.sampled_from(STAFF_ROLES), min_size=1, max_size=3),
        clients=st.frozensets(st.sampled_from(sorted(CLIENT_ROLES)), min_size=1),
        orgs=st.frozensets(st.sampled_from(ORGS), min_size=1, max_size=2),
        client=st.booleans(),
    )
    def set_fitting_roles(
        self,
        staff: frozenset[str],
        clients: frozenset[str],
        orgs: frozenset[UUID],
        client: bool,
    ) -> None:
        self.attempt("set_roles", *((clients, orgs) if client else (staff, ())))

    @rule()
    def deactivate(self) -> None:
        self.attempt("deactivate")

    @rule()
    def reactivate(self) -> None:
        self.attempt("reactivate")

    @rule()
    def enroll(self) -> None:
        if self.attempt("enroll_mfa"):
            self.enrolled = True

    @rule()
    def reset_mfa(self) -> None:
        if self.attempt("reset_mfa"):
            self.enrolled = False

    @rule(reason=st.sampled_from(["bad_password", "not_active"]))
    def fail_login(self, reason: str) -> None:
        self.attempt("record_login_failed", reason, "198.51.100.7")

    @rule()
    def log_in(self) -> None:
        self.attempt("record_login_succeeded", "password", None, uuid4())

    @invariant()
    def status_moves_only_along_the_lifecycle(self) -> None:
        before, after = self.before[0], self.account.status
        assert before == after or (before, after) in ALLOWED_MOVES
        if (before, after) == (AccountStatus.DEACTIVATED, AccountStatus.INVITED):
            assert not self.ever_active, "an activated account came back invited"
        if (before, after) == (AccountStatus.DEACTIVATED, AccountStatus.ACTIVE):
            assert self.account.activated

    @invariant()
    def deactivated_accounts_never_gain_roles(self) -> None:
        if self.before[0] is AccountStatus.DEACTIVATED:
            assert self.account.roles <= self.before[1]
            assert self.account.organization_ids == self.before[2]

    @invariant()
    def client_accounts_have_organizations_and_only_client_roles(self) -> None:
        account = self.account
        assert account.roles, "an account always has a role"
        assert Role.PLATFORM_ADMIN not in account.roles
        if account.is_client:
            assert account.roles <= CLIENT_ROLES
            assert account.organization_ids
        else:
            assert not account.organization_ids

    @invariant()
    def only_activated_accounts_are_enrolled(self) -> None:
        assert self.account.mfa_enrolled == self.enrolled
        assert self.account.activated or not self.account.mfa_enrolled

    @invariant()
    def replaying_the_events_gives_the_same_account(self) -> None:
        replayed = None
        for event in self.events:
            replayed = event.mutate(replayed)
        assert replayed is not None
        assert vars(replayed) == vars(self.account)
        assert self.account.version == len(self.events)


AccountLifecycle.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None
)
test_account_lifecycle = AccountLifecycle.TestCase
