"""Organization aggregate: given events, when a command, then events or an error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValueError, NotFoundError, RuleViolationError
from domain.events import EventMeta
from domain.organization import NAME_MAX, Organization

META = EventMeta("tenant-a", "alice", "req-1", "req-1")


def registered() -> Organization:
    org = Organization.register(META, "Acme Ltd", "gb")
    org.collect_events()
    return org


def test_register_records_the_tenant_normalised_name_and_country():
    org = Organization.register(META, "  Acme   Ltd ", "gb")

    [event] = org.collect_events()
    assert isinstance(event, Organization.Registered)
    assert (event.name, event.country, event.meta) == ("Acme Ltd", "GB", META)
    assert (org.tenant_id, org.name, org.country, org.version) == (
        "tenant-a",
        "Acme Ltd",
        "GB",
        1,
    )


@pytest.mark.parametrize(
    ("name", "country", "field"),
    [
        ("   ", "GB", "name"),
        ("x" * (NAME_MAX + 1), "GB", "name"),
        ("Acme", "UK", "country"),
    ],
)
def test_register_refuses_invalid_values_naming_the_field(name, country, field):
    with pytest.raises(InvalidValueError) as raised:
        Organization.register(META, name, country)
    assert raised.value.field == field


def test_rename_records_renamed_and_bumps_the_version():
    org = registered()
    org.rename(META, "Acme plc")

    [event] = org.collect_events()
    assert isinstance(event, Organization.Renamed)
    assert event.name == "Acme plc"
    assert (org.name, org.version) == ("Acme plc", 2)


def test_rename_to_the_current_name_is_refused_and_records_nothing():
    org = registered()
    with pytest.raises(RuleViolationError) as raised:
        org.rename(META, " Acme  Ltd")
    assert raised.value.rule == "organization.name_unchanged"
    assert org.collect_events() == []
    assert org.version == 1


def test_add_site_defaults_to_the_organization_country():
    org = registered()
    site_id = org.add_site(META, "Head office", "1 High St, London", None)

    [event] = org.collect_events()
    assert isinstance(event, Organization.SiteAdded)
    assert event.site_id == site_id
    assert [(s.name, s.country) for s in org.sites] == [("Head office", "GB")]


def test_site_names_are_unique_case_insensitively():
    org = registered()
    org.add_site(META, "Head office", "1 High St", None)
    with pytest.raises(RuleViolationError) as raised:
        org.add_site(META, "HEAD OFFICE", "2 Low St", "FR")
    assert raised.value.rule == "organization.site_name_taken"
    assert len(org.sites) == 1


@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=20))
def test_version_counts_every_recorded_event(names):
    org = Organization.register(META, "Start", "DE")
    recorded = 1
    for name in names:
        try:
            org.rename(META, name)
            recorded += 1
        except (InvalidValueError, RuleViolationError):
            pass
    assert org.version == recorded == len(org.collect_events())


def test_details_change_records_country_and_registration_number():
    org = registered()
    org.change_details(META, "ie", " IE-123 ")
    [event] = org.collect_events()
    assert isinstance(event, Organization.DetailsChanged)
    assert (org.country, org.registration_number) == ("IE", "IE-123")
    with pytest.raises(RuleViolationError) as raised:
        org.change_details(META, "IE", "IE-123")
    assert raised.value.rule == "organization.details_unchanged"


def test_a_site_can_be_changed_and_removed_but_names_stay_unique():
    org = registered()
    plant = org.add_site(META, "Plant", "1 Mill Rd", None)
    depot = org.add_site(META, "Depot", "2 Dock Rd", "FR")
    org.change_site(META, plant, "Plant North", "1 Mill Rd", None)
    assert org.site(plant).name == "Plant North"
    with pytest.raises(RuleViolationError) as raised:
        org.change_site(META, depot, "plant north", "2 Dock Rd", None)
    assert raised.value.rule == "organization.site_name_taken"
    org.remove_site(META, plant)
    assert [s.name for s in org.sites] == ["Depot"]
    with pytest.raises(NotFoundError):
        org.remove_site(META, plant)


def test_an_archived_organization_is_read_only():
    org = registered()
    site = org.add_site(META, "Plant", "1 Mill Rd", None)
    org.archive(META, "client left")
    version = org.version
    for attempt in (
        lambda: org.rename(META, "New name"),
        lambda: org.add_site(META, "Depot", "2 Dock Rd", None),
        lambda: org.change_site(META, site, "Plant 2", "1 Mill Rd", None),
        lambda: org.remove_site(META, site),
        lambda: org.change_details(META, "FR", None),
        lambda: org.archive(META, "again"),
    ):
        with pytest.raises(RuleViolationError) as raised:
            attempt()
        assert raised.value.rule == "organization.archived"
    assert org.version == version
