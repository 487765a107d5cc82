"""Snapshots restore exactly the aggregate that replaying its events builds.

In memory: the state codec's round trips, snapshots of random audit
histories, a long audit loaded from its snapshots, and the fallbacks (a stale
or corrupt snapshot is ignored; a snapshot that cannot be stored does not fail
the command).
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant

from domain.audit import Audit
from domain.audit_values import (
    AuditStatus,
    ClientResponse,
    Finding,
    FindingStatus,
    Grade,
    PastGrade,
    Team,
)
from domain.certificate import Certificate
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta
from domain.organization import Organization
from infra.eventstore.memory import in_memory_env
from infra.eventstore.snapshots import (
    SNAPSHOTTING_INTERVALS,
    AggregateSnapshot,
    code_fingerprint,
)
from infra.eventstore.state_codec import (
    StateCodecError,
    decode_state,
    decode_value,
    encode_state,
    encode_value,
)
from infra.eventstore.store import LibraryEventStore
from tests.unit.test_audit_properties import AuditLifecycle
from tests.unit.test_certificate import suspended
from tests.unit.test_standard_template import published_once

META = EventMeta("tenant-snap", "alice", "req-snap", "req-snap")
DAY0 = date(2025, 1, 1)
FINDING = Finding(
    uuid4(),
    "8.5",
    Grade.MINOR_NONCONFORMITY,
    "Gap",
    "Record",
    (uuid4(), uuid4()),
    DAY0,
    FindingStatus.RESPONSE_SUBMITTED,
    ClientResponse("Cause", "Fix", "Action", DAY0 + timedelta(days=30)),
    past_grades=(PastGrade(Grade.OBSERVATION, "Worse than thought"),),
)


def through_json(value: object) -> object:
    """Encode, write as JSON text, read back, decode."""
    return decode_value(json.loads(json.dumps(encode_value(value))))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        1.5,
        "text",
        AuditStatus.IN_PROGRESS,
        uuid4(),
        DAY0,
        datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        Decimal("12.30"),
        (uuid4(), "a", 1),
        ["a", ("b",)],
        frozenset({"ann", "bob"}),
        {1, 2},
        {uuid4(): FINDING, uuid4(): None},
        {"8.5": Team("ann", ("bob",), (), ("cyd",))},
        FINDING,
        (),
        {},
    ],
    ids=repr,
)
def test_every_kind_of_state_value_comes_back_equal_and_of_its_own_type(value):
    restored = through_json(value)

    assert restored == value
    assert type(restored) is type(value)


def test_nested_values_keep_their_types_and_dict_order():
    first, second = uuid4(), uuid4()
    findings = {second: FINDING, first: FINDING}

    restored = cast(dict, through_json(findings))

    assert list(restored) == [second, first]
    finding = restored[second]
    assert finding.status is FindingStatus.RESPONSE_SUBMITTED
    assert type(finding.evidence_ids) is tuple
    assert finding.past_grades[0].grade is Grade.OBSERVATION
    assert type(finding.response.due_date) is date


def test_a_value_of_an_unknown_type_is_refused_naming_the_attribute():
    with pytest.raises(StateCodecError, match="'_odd'"):
        encode_state({"name": "x", "_odd": object()})


@dataclass(frozen=True)
class Shape:
    """A value object whose fields may "change" under a stored encoding."""

    a: int
    b: tuple[int, ...] = field(default=())


SHAPE = f"{__name__}:Shape"
STATUS = "domain.audit_values:AuditStatus"


@pytest.mark.parametrize(
    ("classes", "value"),
    [
        ([[SHAPE, "dataclass", ["a"]]], ["o", 0, 1]),
        ([[SHAPE, "dataclass", ["a", "b", "c"]]], ["o", 0, 1, ["t"], 2]),
        ([[SHAPE, "dataclass", ["a", "b"]]], ["o", 0, 1]),
        ([[f"{__name__}:Gone", "dataclass", ["a"]]], ["o", 0, 1]),
        ([[STATUS, "dataclass", []]], ["o", 0]),
        ([[STATUS, "enum", []]], ["e", 0, "archived"]),
        ([], ["e", 0, "planned"]),
        ([], ["u", "not-a-uuid"]),
        ([], ["n", "twelve"]),
        ([], ["m", 1]),
        ([], ["pickle", ""]),
        ([], {"a": 1}),
    ],
    ids=repr,
)
def test_an_encoding_that_no_longer_fits_the_code_is_refused(classes, value):
    with pytest.raises(StateCodecError):
        decode_state(cast(Any, {"classes": classes, "attrs": {"x": value}}))


def test_the_same_encoding_restores_while_the_code_still_fits():
    classes = [[SHAPE, "dataclass", ["a", "b"]], [STATUS, "enum", []]]
    value = ["t", ["o", 0, 1, ["t", 2]], ["e", 1, "planned"]]

    restored = decode_state(cast(Any, {"classes": classes, "attrs": {"x": value}}))

    assert restored == {"x": (Shape(1, (2,)), AuditStatus.PLANNED)}


def test_every_snapshotted_aggregate_kind_round_trips():
    organization = Organization.register(META, "Acme", "NL")
    organization.add_site(META, "Plant", "Main St 1", None)
    samples = [organization, suspended(), published_once()]
    assert {type(s) for s in samples} | {Audit} == set(SNAPSHOTTING_INTERVALS)
    app = LibraryEventStore(in_memory_env()).app
    for aggregate in samples:
        aggregate.collect_events()
        snapshot = app.mapper.to_stored_event(AggregateSnapshot.take(aggregate))
        restored = cast(AggregateSnapshot, app.mapper.to_domain_event(snapshot))
        assert restored.mutate(None) == aggregate


class AuditSnapshots(AuditLifecycle):
    """The audit property test's random histories, snapshotted at every step."""

    @invariant()
    def a_snapshot_restores_the_same_audit(self):
        if self._audit is None:
            return
        mapper = self.store.app.mapper
        stored = mapper.to_stored_event(AggregateSnapshot.take(self.audit))
        snapshot = cast(AggregateSnapshot, mapper.to_domain_event(stored))
        assert snapshot.mutate(None) == self.audit

    @property
    def store(self) -> LibraryEventStore:
        if not hasattr(self, "_store"):
            self._store = LibraryEventStore(in_memory_env())
        return self._store


TestAuditSnapshots = AuditSnapshots.TestCase
TestAuditSnapshots.settings = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def long_audit_history(store: LibraryEventStore, events: int, batch: int) -> UUID:
    """An audit with ``events`` events from random commands, saved in batches."""
    rng = random.Random(events)
    audit = Audit.plan(
        META,
        organization_id=uuid4(),
        site_ids=[uuid4()],
        standard_template_id=uuid4(),
        standard_version=1,
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_type="surveillance",
        planned_start=DAY0,
        planned_end=DAY0 + timedelta(days=2),
        scope_statement="Pumps",
    )
    audit.assign_team(META, "ann", ("bob",), (), ())
    audit.start(META, DAY0)
    while audit.version < events:
        finding_ids = list(audit.findings)
        pick = rng.choice(finding_ids) if finding_ids else uuid4()
        day = DAY0 + timedelta(days=rng.randrange(30))
        grade = rng.choice(list(Grade))
        options: list[tuple[Any, ...]] = [
            (audit.assess_requirement, f"{rng.randrange(40)}.1", "conforming"),
            (audit.assess_requirement, "4.1", "nonconforming", "Notes"),
            (audit.raise_finding, "7.1", grade, "Gap", "Record", day),
            (audit.submit_response, pick, "Cause", "Fix", "CA", day),
            (audit.accept_response, pick),
            (audit.reject_response, pick, "Vague"),
            (audit.regrade_finding, pick, grade, "Why"),
            (audit.assign_team, "ann", (rng.choice("bcd"),), (), ()),
            (audit.draft_report, "Report"),
        ]
        command, *args = rng.choice(options)
        try:
            command(META, *args)
        except (InvalidValueError, RuleViolationError):
            continue
        if len(audit.pending_events) >= batch or audit.version == events:
            store.append(audit)
    if audit.pending_events:
        store.append(audit)
    return audit.id


def replayed(store: LibraryEventStore, audit_id: UUID) -> Audit:
    """The audit from its events alone, ignoring any snapshot."""
    events = store.app.events.get(audit_id)
    return cast(Audit, project_aggregate(None, events))


def test_a_long_audit_loads_from_its_snapshots_equal_to_its_replay():
    store = LibraryEventStore(in_memory_env())
    audit_id = long_audit_history(store, events=1000, batch=37)

    assert store.app.snapshots is not None
    versions = [s.originator_version for s in store.app.snapshots.get(audit_id)]
    assert versions == list(range(100, 1001, 100))
    loaded = store.load(Audit, audit_id)
    assert loaded == replayed(store, audit_id)
    assert loaded is not None
    assert loaded.version == 1000


def test_loading_without_snapshotting_replays_the_same_audit():
    store = LibraryEventStore(in_memory_env(snapshots=False))
    audit_id = long_audit_history(store, events=250, batch=250)

    assert store.app.snapshots is None
    assert store.load(Audit, audit_id) == replayed(store, audit_id)


def corrupt_snapshot(store: LibraryEventStore, audit_id: UUID, **change) -> None:
    """Store a newest snapshot of the audit with some of it changed."""
    assert store.app.snapshots is not None
    audit = replayed(store, audit_id)
    good = store.app.mapper.to_stored_event(AggregateSnapshot.take(audit))
    fields = {**vars(good), "originator_version": audit.version, **change}
    store.app.snapshots.recorder.insert_events([StoredEvent(**fields)])


@pytest.mark.parametrize(
    "change",
    [
        {"topic": "infra.eventstore.snapshots:RenamedSnapshot"},
        {"topic": "domain.audit:RenamedAudit"},
        {"state": b"{not json"},
        {"state": b'{"topic": "domain.audit:Audit", "state": {"format": 99}}'},
    ],
    ids=["snapshot class gone", "aggregate class gone", "bad json", "format"],
)
def test_a_snapshot_that_cannot_be_used_is_ignored_and_the_events_replayed(
    change, caplog
):
    store = LibraryEventStore(in_memory_env())
    audit_id = long_audit_history(store, events=150, batch=150)
    corrupt_snapshot(store, audit_id, **change)

    with caplog.at_level(logging.WARNING, logger="infra.eventstore.snapshots"):
        loaded = store.load(Audit, audit_id)

    assert loaded == replayed(store, audit_id)
    assert "snapshot ignored" in caplog.text


def test_a_snapshot_written_by_other_domain_code_is_ignored(caplog, monkeypatch):
    store = LibraryEventStore(in_memory_env())
    audit_id = long_audit_history(store, events=120, batch=120)
    audit = replayed(store, audit_id)
    audit.__dict__["status"] = AuditStatus.CANCELLED  # what old code would build
    assert store.app.snapshots is not None
    store.app.snapshots.put([AggregateSnapshot.take(audit)])
    monkeypatch.setattr(
        "infra.eventstore.snapshots.code_fingerprint",
        lambda cls: "fingerprint of newer code",
    )

    with caplog.at_level(logging.WARNING, logger="infra.eventstore.snapshots"):
        loaded = store.load(Audit, audit_id)

    assert loaded is not None
    assert loaded.status is not AuditStatus.CANCELLED
    assert loaded == replayed(store, audit_id)
    assert "changed since the snapshot" in caplog.records[-1].error


def test_a_snapshot_that_cannot_be_stored_does_not_fail_the_command(caplog):
    store = LibraryEventStore(in_memory_env())
    snapshots = store.app.snapshots
    assert snapshots is not None

    def refuse(*_args, **_kwargs):
        raise RuntimeError("snapshot table unavailable")

    snapshots.put = refuse  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="infra.eventstore.store"):
        audit_id = long_audit_history(store, events=120, batch=120)

    assert "snapshot not taken" in caplog.text
    loaded = store.load(Audit, audit_id)
    assert loaded is not None
    assert loaded.version == 120


FINGERPRINT = """
from domain.audit import Audit
from infra.eventstore.snapshots import code_fingerprint
if {exercise}:
    from tests.unit.test_snapshots import (
        long_audit_history, test_every_snapshotted_aggregate_kind_round_trips
    )
    from infra.eventstore.memory import in_memory_env
    from infra.eventstore.store import LibraryEventStore
    store = LibraryEventStore(in_memory_env())
    store.load(Audit, long_audit_history(store, events=150, batch=50))
    test_every_snapshotted_aggregate_kind_round_trips()
print(code_fingerprint(Audit))
"""


def test_the_fingerprint_is_the_same_in_every_process_and_differs_by_kind():
    """Hash seeds and what ran before (classes gain attributes as they are
    used) must not change it, or no process could use another's snapshots."""
    prints = {
        subprocess.run(
            [sys.executable, "-c", FINGERPRINT.format(exercise=exercise)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed, exercise in (("1", False), ("2", True))
    }

    assert prints == {code_fingerprint(Audit)}
    assert code_fingerprint(Certificate) != code_fingerprint(Audit)
