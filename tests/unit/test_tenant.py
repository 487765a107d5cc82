"""Tenant aggregate: given events, when a command, then events or an error."""

from __future__ import annotations

import pytest

from domain.errors import InvalidValueError
from domain.events import EventMeta
from domain.tenant import (
    NAME_MAX,
    PLATFORM_TENANT,
    Tenant,
    tenant_aggregate_id,
    valid_tenant_slug,
)

META = EventMeta("acme-cert", "platform-admin-1", "req-1", "req-1")


def test_create_records_the_name_in_the_new_tenants_own_log():
    tenant = Tenant.create(META, "  Acme   Certification ")

    [event] = tenant.collect_events()
    assert isinstance(event, Tenant.Created)
    assert (event.name, event.meta.tenant_id) == ("Acme Certification", "acme-cert")
    assert (tenant.tenant_id, tenant.name, tenant.version) == (
        "acme-cert",
        "Acme Certification",
        1,
    )


def test_the_tenant_is_found_by_its_slug_and_two_creations_collide():
    first = Tenant.create(META, "Acme")
    second = Tenant.create(META, "Acme again")
    other = Tenant.create(EventMeta("beta-cert", "p", "r", "r"), "Beta")
    assert first.id == second.id == tenant_aggregate_id("acme-cert")
    assert other.id == tenant_aggregate_id("beta-cert") != first.id


@pytest.mark.parametrize(
    "slug", ["acme-cert", "abc", "a" * 40, "0day", "platform", "x-1-y"]
)
def test_slugs_of_lower_case_letters_digits_and_hyphens_are_valid(slug):
    assert valid_tenant_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "ab",
        "a" * 41,
        "-acme",
        "Acme",
        "acme cert",
        "acme_cert",
        "acme.cert",
        " acme",
        "acme\n",
        "ácme",
        "../etc",
    ],
)
def test_anything_else_is_refused_naming_tenant_id(slug):
    with pytest.raises(InvalidValueError) as raised:
        valid_tenant_slug(slug)
    assert raised.value.field == "tenant_id"
    with pytest.raises(InvalidValueError):
        Tenant.create(EventMeta(slug, "p", "r", "r"), "Acme")


def test_the_platform_tenant_is_reserved():
    with pytest.raises(InvalidValueError) as raised:
        Tenant.create(EventMeta(PLATFORM_TENANT, "p", "r", "r"), "Platform")
    assert raised.value.field == "tenant_id"
    assert "reserved" in raised.value.detail


@pytest.mark.parametrize("name", ["", "   ", "x" * (NAME_MAX + 1)])
def test_a_blank_or_over_long_name_is_refused(name):
    with pytest.raises(InvalidValueError) as raised:
        Tenant.create(META, name)
    assert raised.value.field == "name"
