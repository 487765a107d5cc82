"""History entries made straight from the stored JSON (the fast path of
:class:`~infra.history.reader.PostgresHistory`) are exactly the entries the
envelope path makes: decode the domain event (upcast), build its envelope,
open or hide its personal fields, shape it. Checked over a mixed set of rows
(unicode metadata, sealed personal fields, an erased person, an event stored
at an old schema version) for viewers who may and may not see personal data,
as entries, as JSON Lines and as a JSON page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from domain.access_record import AccessRecord
from domain.account import Account
from domain.events import EventMeta
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.history.catalog import catalog
from infra.history.encoding import json_page
from infra.history.reader import PostgresHistory, Viewer, _entries, _lines, _public
from infra.streaming.public_events import personal_view, to_envelope
from tests.integration.test_upcasting import V1_STATE
from tests.unit.test_stored_envelopes import ODD_META, domain_aggregates

SOURCE = "/assurehub/test"
TENANT = "acme"
Row = tuple[Any, int, str, bytes, int]


@pytest.fixture
def store() -> Iterator[LibraryEventStore]:
    store = LibraryEventStore(in_memory_env(snapshots=False))
    yield store
    store.close()


def _rows(store: LibraryEventStore) -> tuple[list[Row], UUID, UUID]:
    """Rows as the events table holds them; the invited and the erased
    account's ids."""
    meta = EventMeta(TENANT, "ana", "req-1", "req-1")
    later = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=1)
    kept = Account.invite(meta, "rita@example.com", "Rita Ö", ("auditor",), (), later)
    gone = Account.invite(meta, "gone@example.com", "Gone", ("auditor",), (), later)
    read = AccessRecord.record(
        ODD_META, "GET /audit-trail", "/audit-trail", "", None, "203.0.113.9"
    )
    events = [e for a in domain_aggregates() for e in a.collect_events()]
    events += [*kept.collect_events(), *gone.collect_events(), *read.collect_events()]
    mapper = store.app.mapper
    rows: list[Row] = []
    for position, event in enumerate(events, start=1):
        s = mapper.to_stored_event(event)
        rows.append((s.originator_id, s.originator_version, s.topic, s.state, position))
    store.app.recorder.person_keys.destroy(TENANT, gone.id)  # type: ignore[attr-defined]
    v1 = json.dumps(V1_STATE).encode()
    topic = "domain.organization:Organization.Registered"
    rows.append((uuid4(), 1, topic, v1, len(rows) + 1))
    return rows, kept.id, gone.id


def _envelope_path(
    store: LibraryEventStore, row: Row, names: dict[str, Any], viewer: Viewer
) -> dict[str, Any]:
    """The entry as the envelope path makes it."""
    originator_id, version, topic, state, position = row
    stored = StoredEvent(originator_id, version, topic, state)
    event = store.decode(stored)
    envelope = to_envelope(event, position, SOURCE)
    if viewer.sees_personal or viewer.actor_id in (
        envelope.actor_id,
        envelope.subject,
    ):
        envelope = personal_view(envelope, store.personal, reveal=True)
    stored_version = json.loads(state).get("class_version", 1)
    kind = catalog().kind(topic, event)
    return _public(envelope, stored_version, kind.personal, names, viewer)


def _viewers(kept: UUID) -> list[Viewer]:
    return [
        Viewer("cora", sees_personal=True),
        Viewer("cora", sees_personal=False),
        Viewer("ana", sees_personal=False),  # the actor of the invitations
        Viewer(str(kept), sees_personal=False),  # the invited person
    ]


@pytest.mark.parametrize("which", range(4))
def test_fast_entries_equal_the_envelope_paths(store, which):
    rows, kept, gone = _rows(store)
    history = PostgresHistory(None, store, SOURCE)  # type: ignore[arg-type]
    viewer = _viewers(kept)[which]
    names: dict[str, Any] = {r: f"name of {r}" for r in ("ana", "ålice «x»")}
    expected = [_envelope_path(store, row, names, viewer) for row in rows]

    made = history._batch(None, rows, viewer, dict(names))
    entries = _entries(made, names, viewer)

    assert entries == expected
    assert [json.dumps(e) for e in entries] == [json.dumps(e) for e in expected]
    lines = _lines(made, names, viewer).decode().splitlines()
    assert [json.loads(line) for line in lines] == expected
    page = json.loads(json_page(entries, "7"))
    assert page == {"items": expected, "next_cursor": "7"}
    # The mix holds what it is meant to: fast rows, an upcast row, a sealed
    # personal field opened or hidden, an erased one.
    fast = [history._envelopes.parts(r[2], r[3]) is not None for r in rows]
    assert fast == [True] * (len(rows) - 1) + [False]  # the upcast row is slow
    assert entries[-1]["stored_schema_version"] == 1
    by_subject = {
        e["aggregate_id"]: e for e in entries if e["type"] == "account.invited"
    }
    invited, erased = by_subject[str(kept)], by_subject[str(gone)]
    sees = viewer.sees_personal or viewer.actor_id == "ana"
    assert erased["data"]["email"] == ("[erased]" if sees else None)
    if sees or viewer.actor_id == str(kept):
        assert invited["data"]["email"] == "rita@example.com"
    else:
        assert invited["data"]["email"] is None
        assert "email" in invited["redacted"]
