"""Over real Postgres rows, the rebuild's envelopes are the relay's: the fast
path for current rows, the library's upcasting for an old one."""

from __future__ import annotations

from infra.streaming.public_events import to_envelope
from infra.streaming.stored_envelopes import StoredEnvelopes
from tests.integration.test_upcasting import store_v1_registration
from tests.unit.test_stored_envelopes import domain_aggregates


def test_rebuild_envelopes_match_the_relays_for_a_mix_with_an_upcast_row(container):
    store = container.event_store
    source = container.settings.event_source
    before = store.head()
    aggregates = domain_aggregates()
    store.append(*aggregates[:2])
    legacy = store_v1_registration(container)
    store.append(*aggregates[2:])
    head = store.head()
    rows = [r for r in store.read_after(before, 1_000) if r.id <= head]
    assert len(rows) == 29

    envelopes = StoredEnvelopes(store, source)
    for row in rows:
        expected = to_envelope(store.decode(row), row.id, source)
        fast = envelopes.fast(row, row.id)
        if row.originator_id == legacy:
            assert fast is None  # stored at version 1: upcast by the library
        else:
            assert fast == expected
            assert list(vars(fast).items()) == list(vars(expected).items())
        assert envelopes.envelope(row, row.id) == expected
    assert envelopes.fallbacks == 1

    rebuilt = list(container.rebuilder(ask_kafka=False).events(before, head))
    assert rebuilt == [to_envelope(store.decode(r), r.id, source) for r in rows]
    [upcast] = [e for e in rebuilt if e.subject == str(legacy)]
    assert upcast.type == "assurehub.organization.registered.v2"
    assert upcast.data == {
        "name": "Legacy Ltd",
        "country": "DE",
        "registration_number": None,
    }
