"""A tenant's MFA policy: whom it requires a second factor of."""

from __future__ import annotations

import pytest

from domain.errors import InvalidValueError
from domain.events import EventMeta
from domain.principal import Role
from domain.tenant_settings import TenantSettings, settings_id

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
ADMIN = frozenset({Role.TENANT_ADMIN})
AUDITOR = frozenset({Role.AUDITOR})


def configured() -> TenantSettings:
    settings = TenantSettings.configure(META, "Europe/Berlin")
    settings.collect_events()
    return settings


def test_by_default_no_one_needs_mfa():
    settings = configured()
    assert not settings.mfa_required(ADMIN)
    assert not settings.mfa_required(frozenset(Role))
    assert (settings.mfa_required_for_all, settings.mfa_required_roles) == (
        False,
        frozenset(),
    )


def test_requiring_roles_records_them_sorted_and_applies_to_holders_only():
    settings = configured()
    settings.set_mfa_policy(META, False, ("tenant_admin", "decision_maker"))

    [event] = settings.collect_events()
    assert isinstance(event, TenantSettings.MfaPolicyChanged)
    assert (event.required_for_all, event.required_roles) == (
        False,
        ("decision_maker", "tenant_admin"),
    )
    assert settings.mfa_required(ADMIN)
    assert settings.mfa_required(frozenset({Role.AUDITOR, Role.DECISION_MAKER}))
    assert not settings.mfa_required(AUDITOR)
    assert not settings.mfa_required(frozenset())


def test_requiring_it_of_all_covers_every_account():
    settings = configured()
    settings.set_mfa_policy(META, True, ())
    assert settings.mfa_required(AUDITOR)
    assert settings.mfa_required(frozenset({Role.CLIENT_USER}))
    assert settings.time_zone == "Europe/Berlin", "the zone is untouched"


def test_the_same_policy_again_records_nothing():
    settings = configured()
    settings.set_mfa_policy(META, False, ())
    assert settings.collect_events() == []
    settings.set_mfa_policy(META, False, ["auditor", "tenant_admin"])
    settings.set_mfa_policy(META, False, ["tenant_admin", "auditor", "auditor"])
    assert len(settings.collect_events()) == 1
    assert settings.version == 2


def test_the_policy_can_be_relaxed_again():
    settings = configured()
    settings.set_mfa_policy(META, True, ["auditor"])
    settings.set_mfa_policy(META, False, [])
    assert not settings.mfa_required(frozenset(Role))
    assert settings.version == 3


def test_an_unknown_role_is_refused_and_records_nothing():
    settings = configured()
    with pytest.raises(InvalidValueError) as raised:
        settings.set_mfa_policy(META, False, ["tenant_admin", "superuser"])
    assert raised.value.field == "required_roles"
    assert settings.collect_events() == []


def test_a_tenant_without_settings_can_start_with_a_policy():
    settings = TenantSettings.with_mfa_policy(META, False, ["tenant_admin"])

    configured_, changed = settings.collect_events()
    assert isinstance(configured_, TenantSettings.Configured)
    assert isinstance(changed, TenantSettings.MfaPolicyChanged)
    assert settings.id == settings_id("tenant-a")
    assert settings.time_zone == "UTC"
    assert settings.mfa_required(ADMIN)
    assert not settings.mfa_required(AUDITOR)


def test_starting_with_the_default_policy_records_only_the_settings():
    settings = TenantSettings.with_mfa_policy(META, False, [], "Asia/Tokyo")
    [event] = settings.collect_events()
    assert isinstance(event, TenantSettings.Configured)
    assert settings.time_zone == "Asia/Tokyo"


def test_starting_with_an_unknown_role_creates_nothing():
    with pytest.raises(InvalidValueError) as raised:
        TenantSettings.with_mfa_policy(META, True, ["root"])
    assert raised.value.field == "required_roles"
