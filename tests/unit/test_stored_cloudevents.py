"""The feed's page straight from the rows is, byte for byte, the page made
through the envelopes (``structured(masked(envelope))``, or the envelope's
personal view for a caller allowed personal data, rendered as a
``JSONResponse`` renders it)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.responses import JSONResponse

from domain.organization import Organization
from domain.personal import ERASED
from infra.eventstore.store import LibraryEventStore
from infra.streaming.cloudevents import structured, to_json
from infra.streaming.personal_fields import masked
from infra.streaming.public_events import personal_view, to_envelope
from infra.streaming.stored_cloudevents import Row, StoredCloudEvents
from infra.streaming.stored_envelopes import StoredEnvelopes
from tests.unit.test_audit import META
from tests.unit.test_identity_world import World
from tests.unit.test_stored_envelopes import SOURCE, domain_aggregates, reworked

RITA, OLLE = "rita@example.com", "olle@example.com"


def _with(stored: StoredEvent, change: Any, version: int) -> StoredEvent:
    return dataclasses.replace(reworked(stored, change), originator_version=version)


def odd_rows(store: LibraryEventStore) -> None:
    """Rows the straight path must leave to the envelopes: an event stored at
    an older class version (upcast), a float, an integer beyond 64 bits."""
    org = Organization.register(META, "Legacy AB", "SE", "556000-1234")
    stored = store.app.mapper.to_stored_event(org.collect_events()[0])

    def upcast(state: dict[str, Any]) -> None:
        state["class_version"] = 1
        del state["registration_number"]

    def small_float(state: dict[str, Any]) -> None:
        state["country"] = 1e-05

    def big_int(state: dict[str, Any]) -> None:
        state["country"] = 2**70

    rows = [_with(stored, upcast, 1)]
    rows += [_with(stored, c, n) for n, c in ((2, small_float), (3, big_int))]
    store.app.recorder.insert_events(rows)


@pytest.fixture
def world() -> World:
    """A mixed store: identity events with personal fields (sealed; one
    person erased), audits, certificates, templates, organizations with
    unusual text, and odd rows."""
    world = World()
    admin = world.create_tenant()
    rita = world.active_user(admin)
    world.active_user(admin, OLLE)
    world.login(address="203.0.113.9")
    world.login(OLLE, address="198.51.100.7")
    world.accounts.erase(world.ctx_of(admin), rita)
    world.store.append(*domain_aggregates())
    odd_rows(world.store)
    return world


def rows_of(store: LibraryEventStore) -> list[Row]:
    return [
        (n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
        for n in store.read_after(0, 10_000)
    ]


def through_envelopes(store: LibraryEventStore, *, personal: bool) -> list[Any]:
    """The page as the envelopes make it (the domain event decoded)."""
    made = []
    for n in store.read_after(0, 10_000):
        envelope = to_envelope(store.decode(n), n.id, SOURCE)
        if personal:
            envelope = personal_view(envelope, store.personal, reveal=True)
        else:
            envelope = masked(envelope)
        made.append(structured(envelope))
    return made


@pytest.mark.parametrize("personal", [False, True], ids=["masked", "personal"])
def test_the_page_from_rows_is_the_page_through_envelopes(world, personal):
    envelopes = StoredEnvelopes(world.store, SOURCE)
    straight = StoredCloudEvents(world.store, envelopes, SOURCE)
    rows = rows_of(world.store)

    page = straight.events(rows, personal=personal)
    expected = through_envelopes(world.store, personal=personal)

    assert len(page) == len(rows) > 40
    assert repr(page) == repr(expected)  # same keys, order, values and types
    assert to_json(page) == JSONResponse(expected).body
    for event, wanted in zip(page, expected, strict=True):
        assert (
            to_json(event)
            == json.dumps(wanted, ensure_ascii=False, separators=(",", ":")).encode()
        )
    assert straight.through_envelopes == 3  # only the odd rows, the upcast
    assert envelopes.fallbacks == 1  # through the domain event
    assert len({e["type"].split(".")[1] for e in page}) >= 6


def test_personal_fields_are_masked_opened_or_erased_as_the_caller_may(world):
    straight = StoredCloudEvents(
        world.store, StoredEnvelopes(world.store, SOURCE), SOURCE
    )
    rows = rows_of(world.store)
    invited = [
        (m["data"], p["data"])
        for m, p in zip(
            straight.events(rows, personal=False),
            straight.events(rows, personal=True),
            strict=True,
        )
        if m["type"] == "assurehub.account.invited.v1"
    ]
    masked_rita, masked_olle = invited[1][0], invited[2][0]
    erased_rita, open_olle = invited[1][1], invited[2][1]
    assert masked_rita["email"] is masked_olle["email"] is None
    assert (erased_rita["email"], erased_rita["name"]) == (ERASED, ERASED)
    assert open_olle["email"] == OLLE
    assert not any(OLLE.encode() in r[4] for r in rows)  # stored sealed
    logins = [
        e["data"]["address"]
        for e in straight.events(rows, personal=True)
        if e["type"] == "assurehub.account.login_succeeded.v1"
    ]
    assert logins == [ERASED, "198.51.100.7"]


def test_text_orjson_refuses_is_rendered_or_refused_as_before():
    page = [{"data": {"name": "lone \ud800 surrogate"}}]
    with pytest.raises(UnicodeEncodeError):
        JSONResponse(page)
    with pytest.raises(UnicodeEncodeError):
        to_json(page)
    huge = [{"data": {"n": 2**70, "f": [1e-05, 1e16]}}]
    assert to_json(huge) == JSONResponse(huge).body
