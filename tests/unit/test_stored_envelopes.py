"""The fast path from a stored row to its envelope gives exactly what the
slow path (decode the domain event, then ``to_envelope``) gives."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent

from domain.certificate import Certificate
from domain.document_template import DocumentTemplate
from domain.events import EventMeta
from domain.organization import Organization
from domain.standard_template import StandardTemplate
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.streaming.event_schemas import EVENT_CLASSES
from infra.streaming.public_events import to_envelope
from infra.streaming.stored_envelopes import StoredEnvelopes
from tests.unit.test_audit import (
    AS_REVIEWER,
    LEAD,
    META,
    MINOR,
    START,
    plan,
    raise_nc,
    resolve,
    respond,
)
from tests.unit.test_certificate import issue_terms

SOURCE = "/assurehub/test"
ODD_META = EventMeta("tenant-ü", "ålice «x»", 'req "1"', "cause\n2")


@pytest.fixture
def store() -> Iterator[LibraryEventStore]:
    store = LibraryEventStore(in_memory_env(snapshots=False))
    yield store
    store.close()


def slow(store: LibraryEventStore, stored: StoredEvent, position: int) -> Any:
    return to_envelope(store.decode(stored), position, SOURCE)


def assert_same(store: LibraryEventStore, stored: StoredEvent, position: int) -> None:
    """The fast path applies to the row and gives the slow path's envelope."""
    fast = StoredEnvelopes(store, SOURCE).fast(stored, position)
    assert fast is not None, f"fast path refused {stored.topic}"
    expected = slow(store, stored, position)
    for field in dataclasses.fields(expected):
        mine, theirs = getattr(fast, field.name), getattr(expected, field.name)
        assert (type(mine), mine) == (type(theirs), theirs), field.name
    assert fast.time.tzinfo == expected.time.tzinfo
    assert repr(fast.data) == repr(expected.data)  # same key order, same types
    assert list(vars(fast).items()) == list(vars(expected).items())
    assert type(fast) is type(expected)


def domain_aggregates() -> list[Aggregate]:
    """Aggregates changed through their commands, as the services do."""
    org = Organization.register(ODD_META, "Ünïcode AB 😀", "SE", "556000-1234")
    site = org.add_site(META, "Plant", "Industrigatan 1, Göteborg")
    org.rename(META, "Renamed AB")
    org.change_details(META, "NO", None)
    audit = plan(site_ids=(site,))
    audit.assign_team(ODD_META, LEAD, ("arun",), (), ("olga",))
    audit.start(META, START)
    audit.assess_requirement(META, "8.5.1", "conforming", "Records sampled")
    major, minor = raise_nc(audit), raise_nc(audit, MINOR)
    respond(audit, minor)
    audit.reject_response(META, minor, "Cause not analysed")
    resolve(audit, major)
    audit.close_finding(META, major)
    audit.draft_report(META, "Effective")
    audit.submit_for_review(META, "rita")
    audit.approve_review(AS_REVIEWER)
    standard = StandardTemplate.draft(META, "ISO 9001", "2015", "Quality")
    standard.add_clause(META, "4", "Context", "Requirements")
    standard.add_clause(META, "4.1", "Issues", "The organization shall…", "4")
    standard.publish(META, START)
    report = DocumentTemplate.create(
        META, "audit_report", "Report", "ACME", ["summary", "findings"], "Lead"
    )
    terms = issue_terms(site_ids=(site,), site_scopes=("Pumps",))
    cert = Certificate.issue(META, **terms)
    cert.suspend(META, "Overdue", date(2026, 3, 1))
    cert.reinstate(META, date(2026, 3, 5))
    return [org, audit, standard, report, cert]


def test_every_event_made_through_the_domain_has_the_same_envelope(store):
    aggregates = domain_aggregates()
    store.append(*aggregates)
    rows = store.read_after(0, 1_000)
    assert len(rows) == 28
    for row in rows:
        assert_same(store, row, row.id)
    assert {r.topic.rsplit(".", 1)[1] for r in rows} >= {
        "Registered",
        "SiteAdded",
        "FindingRaised",
        "ResponseRejected",
        "CorrectiveActionVerified",
        "Issued",
        "Published",
    }


def value_of(annotation: Any, n: int) -> Any:
    """A value of an event field's type; ``n`` picks among edge cases."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return None if n % 2 else value_of(inner[0], n)
    if origin is tuple:
        return tuple(value_of(args[0], n + i) for i in range(n % 3))
    if origin is dict:
        return {f"k{i}": value_of(args[1], n + i) for i in range(n % 3)}
    scalars: dict[Any, list[Any]] = {
        str: ["plain", 'Ünïcode «x» "q" \\ 😀\n', ""],
        int: [0, 2**40, -7],
        bool: [True, False, True],
        UUID: [uuid4(), UUID(int=0), UUID(int=2**128 - 1)],
        date: [date(2026, 1, 5), date(1, 1, 1), date(9999, 12, 31)],
        datetime: [
            datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
            datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-3))),
            datetime(2026, 1, 5, 9, 0, 0, 5),
        ],
    }
    return scalars[annotation][n % 3]


def synthetic(event_class: type[Any], n: int) -> Any:
    """An instance of ``event_class`` with every field set by its type."""
    hints = typing.get_type_hints(event_class)
    given: dict[str, Any] = {
        "originator_id": uuid4(),
        "originator_version": 1 + n,
        "timestamp": value_of(datetime, n),
        "meta": ODD_META if n % 2 else META,
        "originator_topic": "domain.x:X",
    }
    values = {
        f.name: given[f.name] if f.name in given else value_of(hints[f.name], n)
        for f in dataclasses.fields(event_class)
    }
    return event_class(**values)


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda c: c.TYPE)
def test_every_published_event_class_has_the_same_envelope(store, event_class):
    mapper = store.app.mapper
    for n in range(4):
        stored = mapper.to_stored_event(synthetic(event_class, n))
        store.app.recorder.insert_events([stored])
        [row] = store.app.recorder.select_events(
            stored.originator_id, gt=stored.originator_version - 1
        )
        assert_same(store, row, 10 + n)


def reworked(stored: StoredEvent, change: Any) -> StoredEvent:
    """``stored`` with its state JSON changed by ``change(state)``."""
    state = json.loads(stored.state)
    change(state)
    text = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
    return dataclasses.replace(stored, state=text.encode())


def test_the_rows_it_does_not_handle_take_the_slow_path(store):
    org = Organization.register(META, "Legacy AB", "SE", "556000-1234")
    registered = store.app.mapper.to_stored_event(org.collect_events()[0])

    def upcast(state: dict[str, Any]) -> None:
        state["class_version"] = 1
        del state["registration_number"]

    def decimal(state: dict[str, Any]) -> None:
        state["country"] = {"_type_": "decimal_str", "_data_": "1.50"}

    def unknown(state: dict[str, Any]) -> None:
        state["extra"] = {"_type_": "nope", "_data_": "x"}

    envelopes = StoredEnvelopes(store, SOURCE)
    assert envelopes.fast(registered, 1) is not None
    for change in (upcast, decimal, unknown):
        assert envelopes.fast(reworked(registered, change), 1) is None
    for change in (upcast, decimal):
        row = reworked(registered, change)
        assert envelopes.envelope(row, 1) == slow(store, row, 1)
    assert envelopes.envelope(reworked(registered, upcast), 1).data == {
        "name": "Legacy AB",
        "country": "SE",
        "registration_number": None,
    }
    assert envelopes.fallbacks == 3
    with pytest.raises(MapperDeserialisationError, match="nope"):
        envelopes.envelope(reworked(registered, unknown), 1)
