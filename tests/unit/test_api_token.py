"""ApiToken aggregate: given events, when a command, then events or an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.access import PERMISSIONS, Permission
from domain.api_token import NAME_MAX, ApiToken
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta
from domain.principal import Role

META = EventMeta("tenant-a", "admin-1", "req-1", "req-1")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def issued(**changes: object) -> ApiToken:
    terms: dict[str, object] = {
        "name": "ERP sync",
        "roles": ["programme_manager"],
        "scopes": [],
        "expires_at": NOW + timedelta(days=30),
        "prefix": "ah_live_AbCd",
    }
    terms.update(changes)
    return ApiToken.issue(META, **terms)  # type: ignore[arg-type]


def test_issue_records_sorted_roles_and_scopes_and_the_prefix():
    token = issued(
        roles=["programme_manager", "compliance_officer"],
        scopes=["organization:read", "audit:read"],
    )

    [event] = token.collect_events()
    assert isinstance(event, ApiToken.Issued)
    assert (event.name, event.roles, event.scopes, event.prefix) == (
        "ERP sync",
        ("compliance_officer", "programme_manager"),
        ("audit:read", "organization:read"),
        "ah_live_AbCd",
    )
    assert token.scopes == {Permission.AUDIT_READ, Permission.ORGANIZATION_READ}
    assert token.roles == {Role.PROGRAMME_MANAGER, Role.COMPLIANCE_OFFICER}
    assert (token.tenant_id, token.revoked) == ("tenant-a", False)


def test_no_scopes_means_everything_the_roles_allow():
    token = issued(scopes=())
    assert token.scopes == frozenset()
    event = token.collect_events()[0]
    assert isinstance(event, ApiToken.Issued)
    assert event.scopes == ()


@pytest.mark.parametrize(
    "role", ["platform_admin", "tenant_admin", "client_admin", "client_user"]
)
def test_admin_and_client_roles_are_refused(role):
    with pytest.raises(RuleViolationError) as raised:
        issued(roles=["auditor", role])
    assert raised.value.rule == "api_token.role_not_allowed"
    assert role in raised.value.detail


@pytest.mark.parametrize("roles", [[], ["superuser"]])
def test_no_or_unknown_roles_are_refused_naming_roles(roles):
    with pytest.raises(InvalidValueError) as raised:
        issued(roles=roles)
    assert raised.value.field == "roles"


def test_a_scope_the_roles_do_not_grant_is_refused():
    assert Role.AUDITOR not in PERMISSIONS[Permission.CERTIFICATE_ISSUE]
    with pytest.raises(RuleViolationError) as raised:
        issued(roles=["auditor"], scopes=["audit:read", "certificate:issue"])
    assert raised.value.rule == "api_token.scope_not_granted"
    assert "certificate:issue" in raised.value.detail


def test_a_scope_granted_by_any_one_of_the_roles_is_allowed():
    token = issued(
        roles=["auditor", "decision_maker"],
        scopes=["certificate:issue", "audit:conduct"],
    )
    assert token.scopes == {Permission.CERTIFICATE_ISSUE, Permission.AUDIT_CONDUCT}


@pytest.mark.parametrize("scope", ["audit:delete", "AUDIT:READ", "", "*"])
def test_an_unknown_scope_is_refused_naming_scopes(scope):
    with pytest.raises(InvalidValueError) as raised:
        issued(scopes=[scope])
    assert raised.value.field == "scopes"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * (NAME_MAX + 1)}, "name"),
        ({"expires_at": datetime(2026, 4, 1, 12, 0)}, "expires_at"),
        ({"prefix": ""}, "prefix"),
        ({"prefix": "ah_live_AbCdE"}, "prefix"),
        ({"prefix": "ah live"}, "prefix"),
    ],
)
def test_bad_values_are_refused_naming_the_field(changes, field):
    with pytest.raises(InvalidValueError) as raised:
        issued(**changes)
    assert raised.value.field == field


def test_a_token_without_expiry_works_until_revoked():
    token = issued(expires_at=None)
    assert token.expires_at is None
    assert token.is_usable(NOW + timedelta(days=3650))
    token.revoke(META)
    assert not token.is_usable(NOW)


def test_a_token_stops_working_when_it_expires_in_any_zone():
    plus_two = timezone(timedelta(hours=2))
    token = issued(expires_at=datetime(2026, 3, 2, 14, 0, tzinfo=plus_two))
    assert token.expires_at == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert token.is_usable(datetime(2026, 3, 2, 11, 59, tzinfo=UTC))
    assert not token.is_usable(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    with pytest.raises(InvalidValueError):
        token.is_usable(datetime(2026, 3, 2, 11, 0))


def test_revoke_records_revoked_once():
    token = issued()
    token.collect_events()
    token.revoke(META)
    [event] = token.collect_events()
    assert isinstance(event, ApiToken.Revoked)
    assert token.revoked
    with pytest.raises(RuleViolationError) as raised:
        token.revoke(META)
    assert raised.value.rule == "api_token.already_revoked"
    assert token.collect_events() == []
    assert token.version == 2
