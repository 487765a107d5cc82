"""Tenant aggregate: given events, when a command, then events or an error."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import islice

import pytest
from eventsourcing.persistence import StoredEvent

from domain.errors import InvalidValueError
from domain.events import EventMeta
from domain.tenant import (
    NAME_MAX,
    PLATFORM_TENANT,
    Tenant,
    certificate_code_candidates,
    tenant_aggregate_id,
    valid_tenant_slug,
)
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore

META = EventMeta("acme-cert", "platform-admin-1", "req-1", "req-1")


def test_create_records_the_name_in_the_new_tenants_own_log():
    tenant = Tenant.create(META, "  Acme   Certification ")

    [event] = tenant.collect_events()
    assert isinstance(event, Tenant.Created)
    assert (event.name, event.meta.tenant_id) == ("Acme Certification", "acme-cert")
    assert event.certificate_code == tenant.certificate_code == "ACMECERT"
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


def test_a_chosen_certificate_code_is_recorded():
    tenant = Tenant.create(META, "Acme", "ACMECERT7")
    [event] = tenant.collect_events()
    assert isinstance(event, Tenant.Created)
    assert event.certificate_code == tenant.certificate_code == "ACMECERT7"


@pytest.mark.parametrize("code", ["", "A", "acme", "ACME-CERT", "A" * 13, "ÄCME"])
def test_a_code_of_anything_but_2_to_12_letters_and_digits_is_refused(code):
    with pytest.raises(InvalidValueError) as raised:
        Tenant.create(META, "Acme", code)
    assert raised.value.field == "certificate_code"


@pytest.mark.parametrize(
    ("slug", "first"),
    [
        ("acme-cert", ["ACMECERT", "ACMECERT2", "ACMECERT3"]),
        ("acmecert", ["ACMECERT", "ACMECERT2", "ACMECERT3"]),
        ("x-1-y", ["X1Y", "X1Y2", "X1Y3"]),
        ("a--", ["AX", "AX2", "AX3"]),
        ("global-assurance-group", ["GLOBALASSURA", "GLOBALASSUR2", "GLOBALASSUR3"]),
    ],
)
def test_code_candidates_are_the_slugs_letters_then_numbered(slug, first):
    assert list(islice(certificate_code_candidates(slug), 3)) == first


def test_candidates_are_distinct_codes_shortened_to_fit():
    candidates = list(certificate_code_candidates("global-assurance-group"))
    assert len(candidates) == len(set(candidates)) == 9999
    assert candidates[-1] == "GLOBALAS9999"
    for code in candidates:
        assert Tenant.create(META, "Acme", code).certificate_code == code


def test_a_version_1_creation_event_loads_without_a_code():
    store = LibraryEventStore(in_memory_env())
    [event] = Tenant.create(META, "Acme").collect_events()
    stored = store.app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    del state["certificate_code"], state["class_version"]
    v1 = replace(stored, state=json.dumps(state).encode())
    assert isinstance(v1, StoredEvent)

    loaded = store.decode(v1)
    assert isinstance(loaded, Tenant.Created)
    assert (loaded.name, loaded.certificate_code) == ("Acme", None)
