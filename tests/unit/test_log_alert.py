"""The log watcher's alerts as security events: recorded once per alert in
the tenant's log, resolved once, and listed by the security events read
model with what was found (on the in-memory event store twin)."""

from __future__ import annotations

import pytest

from commands.log_alerts import DetectedMismatch, LogAlertService
from domain.errors import RuleViolationError
from domain.events import EventMeta
from domain.log_alert import DETAIL_MAX, LogAlert, log_alert_id
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.projection.memory_fold import MemoryFold
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.security_events import SECURITY_EVENTS, SecurityEventsProjection

TENANT = "acme-cert"
MISMATCH = DetectedMismatch(7, TENANT, 41, "payload altered", "hash differs", (30, 45))


@pytest.fixture
def store() -> LibraryEventStore:
    return LibraryEventStore(in_memory_env())


def security_rows(store: LibraryEventStore) -> list[dict]:
    envelopes = StoredEnvelopes(store, "/t")
    folded = MemoryFold(SecurityEventsProjection())
    for stored in store.read_after(0, 1000):
        folded.apply(envelopes.envelope(stored, stored.id))
    return list(folded.memory.rows(SECURITY_EVENTS.name))


def test_an_alert_is_recorded_once_however_often_it_is_reported(store):
    service = LogAlertService(store)
    assert service.record(MISMATCH) is True
    assert service.record(MISMATCH) is False
    [row] = security_rows(store)
    assert row["kind"] == "event_log.mismatch_detected"
    assert row["tenant_id"] == TENANT
    assert row["subject_id"] == log_alert_id(7)
    assert row["actor_id"] == "system:event-log"
    assert row["detail"] == {
        "alert_id": 7,
        "position": 41,
        "problem": "payload altered",
        "detail": "hash differs",
        "segment_from": 30,
        "segment_to": 45,
    }


def test_a_resolution_is_recorded_once_naming_the_operator(store):
    service = LogAlertService(store)
    service.record(MISMATCH)
    assert service.resolve(TENANT, 7, "operator:ops") is True
    assert service.resolve(TENANT, 7, "operator:ops") is False
    resolved = security_rows(store)[-1]
    assert resolved["kind"] == "event_log.alert_resolved"
    assert (resolved["actor_id"], resolved["detail"]) == (
        "operator:ops",
        {"alert_id": 7},
    )


def test_an_alert_with_no_security_event_or_of_another_tenant_is_not_resolved(
    store,
):
    service = LogAlertService(store)
    assert service.resolve(TENANT, 8, "operator:ops") is False
    service.record(MISMATCH)
    assert service.resolve("other-tenant", 7, "operator:ops") is False
    assert len(security_rows(store)) == 1


def test_a_long_detail_is_cut_and_a_resolved_alert_refuses_a_second():
    meta = EventMeta(TENANT, "system:event-log", "c", "c")
    alert = LogAlert.detect(meta, 1, None, "event missing", "x" * 5000, (1, None))
    assert len(alert.detail) == DETAIL_MAX
    assert alert.detail.endswith("…")
    alert.resolve(meta)
    with pytest.raises(RuleViolationError, match="alert 1 is resolved"):
        alert.resolve(meta)
