"""A tenant's time zone: the calendar date its commands record."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from commands.context import CommandContext
from commands.tenant_settings import (
    SetTimeZone,
    TenantCalendar,
    TenantSettingsService,
)
from domain.errors import InvalidValueError, PermissionDeniedError
from domain.events import EventMeta
from domain.principal import Principal, Role
from domain.tenant_settings import TenantSettings, settings_id, today_in
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
ADMIN = Principal("tenant-a", "alice", frozenset({Role.TENANT_ADMIN}))
AUDITOR = Principal("tenant-a", "arun", frozenset({Role.AUDITOR}))
LATE_EVENING_UTC = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


def test_the_same_moment_is_another_date_in_another_zone():
    assert today_in("UTC", LATE_EVENING_UTC) == date(2026, 3, 1)
    assert today_in("Asia/Tokyo", LATE_EVENING_UTC) == date(2026, 3, 2)
    assert today_in("America/Los_Angeles", LATE_EVENING_UTC) == date(2026, 3, 1)


def test_settings_are_found_by_the_tenant_and_record_the_zone():
    settings = TenantSettings.configure(META, "Europe/Berlin")
    assert settings.id == settings_id("tenant-a") != settings_id("tenant-b")
    settings.set_time_zone(META, "Asia/Tokyo")
    assert (settings.time_zone, settings.version) == ("Asia/Tokyo", 2)


def test_setting_the_same_zone_again_records_nothing():
    settings = TenantSettings.configure(META, "Europe/Berlin")
    settings.set_time_zone(META, " Europe/Berlin ")
    assert settings.version == 1


@pytest.mark.parametrize("zone", ["", "Mars/Olympus", "CEST", "../etc/passwd"])
def test_an_unknown_zone_is_refused_naming_the_field(zone):
    with pytest.raises(InvalidValueError) as raised:
        TenantSettings.configure(META, zone)
    assert raised.value.field == "time_zone"


@pytest.fixture
def store():
    return LibraryEventStore(in_memory_env())


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ctx(principal=ADMIN) -> CommandContext:
    return CommandContext(principal, "req-1")


def test_a_tenant_without_settings_works_in_utc(store):
    calendar = TenantCalendar(store)
    assert calendar.time_zone("tenant-a") == "UTC"
    view = TenantSettingsService(store, calendar).show(ctx(AUDITOR))
    assert (view.time_zone, view.version) == ("UTC", 0)


def test_the_calendar_follows_the_tenant_setting(store):
    calendar = TenantCalendar(store)
    service = TenantSettingsService(store, calendar)
    assert calendar.time_zone("tenant-a") == "UTC"
    service.set_time_zone(ctx(), SetTimeZone("Pacific/Auckland"))
    assert calendar.time_zone("tenant-a") == "Pacific/Auckland", "seen at once"
    accepted = service.set_time_zone(ctx(), SetTimeZone("Asia/Tokyo"))
    assert accepted.version == 2
    assert calendar.time_zone("tenant-a") == "Asia/Tokyo"
    assert calendar.time_zone("tenant-b") == "UTC", "tenants are separate"


def test_another_process_sees_a_change_once_its_cache_expires(store):
    clock = Clock()
    elsewhere = TenantCalendar(store, ttl_seconds=60, clock=clock)
    assert elsewhere.time_zone("tenant-a") == "UTC"
    TenantSettingsService(store, TenantCalendar(store)).set_time_zone(
        ctx(), SetTimeZone("Asia/Tokyo")
    )
    clock.now = 30
    assert elsewhere.time_zone("tenant-a") == "UTC"
    clock.now = 61
    assert elsewhere.time_zone("tenant-a") == "Asia/Tokyo"


def test_only_tenant_admins_set_the_zone(store):
    service = TenantSettingsService(store, TenantCalendar(store))
    with pytest.raises(PermissionDeniedError):
        service.set_time_zone(ctx(AUDITOR), SetTimeZone("Asia/Tokyo"))
    assert store.load(TenantSettings, settings_id("tenant-a")) is None
