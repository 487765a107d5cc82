"""The history reader over real Postgres: an event stored at an old schema
version is answered in its current public shape, saying which version was
stored; the trail pages by position within one tenant."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from infra.history.export import write_trail
from infra.history.query import HistoryQuery
from infra.history.reader import Viewer
from infra.streaming.public_events import to_envelope
from tests.integration.test_upcasting import store_v1_registration

OFFICER = Viewer("cora", sees_personal=True)


def test_an_upcast_event_shows_its_current_shape_and_its_stored_version(container):
    org_id = store_v1_registration(container)
    page = container.history.aggregate_page(org_id, HistoryQuery(limit=10), OFFICER)
    [entry] = page.entries
    assert page.next_after is None
    assert (entry["schema_version"], entry["stored_schema_version"]) == (2, 1)
    assert entry["public_type"] == "assurehub.organization.registered.v2"
    assert entry["data"]["registration_number"] is None
    assert entry["actor"] == {"id": "alice", "name": None}
    # The same public JSON the relay publishes for the row.
    [row] = container.event_store.app.recorder.select_events(org_id)
    published = to_envelope(container.event_store.decode(row), 0, "/assurehub")
    assert entry["data"] == published.data


def test_the_trail_pages_by_position_within_its_tenant(container):
    first, second = store_v1_registration(container), store_v1_registration(container)
    query = HistoryQuery(aggregate_types=("organization",), limit=1)
    seen = []
    after = 0
    while True:
        page = container.history.trail_page(
            "tenant-upcast", replace(query, after=after), OFFICER
        )
        seen += [e["aggregate_id"] for e in page.entries]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen[-2:] == [str(first), str(second)]
    out = io.BytesIO()
    written = write_trail(
        container.history, "tenant-upcast", HistoryQuery(), OFFICER, out
    )
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert written == len(lines) == len(seen)
    assert [e["aggregate_id"] for e in lines] == seen
    assert (
        container.history.trail_page("nobody", HistoryQuery(limit=5), OFFICER).entries
        == []
    )
