"""The event log's proof on Postgres: events chained at append, checkpoints
signed by the watcher, exports that verify alone, and tampering with the
``events`` table behind the application's back named at the first bad
position by the offline verifier, the live check and the watcher."""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from domain.events import EventMeta
from domain.organization import Organization
from infra.bootstrap import Container
from infra.eventlog.export import export_lines, newest_checkpoint
from infra.eventlog.signing import CheckpointSigner, signing_keys
from infra.eventlog.watch import LogWatcher, database_keys
from infra.eventstore.chain import read_payload, recorded_time
from infra.eventstore.log_verifier import Problem, Report, event_hash, verify
from infra.postgres import event_log
from infra.projection.memory_fold import MemoryFold
from infra.streaming.stored_envelopes import StoredEnvelopes
from processors.log_cli import log_alerts, verify_live
from projections.security_events import SECURITY_EVENTS, SecurityEventsProjection
from tests.scratch_database import scratch_container

SEQUENCE = "assurehub_events_notification_id_seq"


@pytest.fixture(scope="module")
def store(settings) -> Iterator[Container]:
    """A database of its own: the tests edit its events table."""
    with scratch_container(settings) as container:
        yield container


@dataclass
class Tenant:
    id: str
    positions: list[int]


def append(container: Container, tenant: str, count: int) -> list[int]:
    meta = EventMeta(tenant, "alice", "req", "req")
    positions = []
    for i in range(count):
        org = Organization.register(meta, f"Org {i}", "NL")
        positions.append(container.event_store.append(org))
    return positions


def sql(container: Container, statement: str, *params: object) -> None:
    with container.database.connection() as conn:
        conn.execute(statement, params)


@pytest.fixture
def tenant(store: Container) -> Tenant:
    """Six events of a fresh tenant, another tenant's events between them,
    a gap of free positions after the third, and the chain signed."""
    me, other = f"log-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    positions = []
    for step in range(3):
        positions += append(store, me, 2 if step != 1 else 1)
        append(store, other, 1)
        if step == 1:
            sql(store, f"SELECT setval('{SEQUENCE}', nextval('{SEQUENCE}') + 5)")
    positions += append(store, me, 1)
    watcher(store).check()
    return Tenant(me, positions)


def watcher(container: Container) -> LogWatcher:
    keys = signing_keys(container.settings)
    return LogWatcher(
        container.database,
        CheckpointSigner(container.database, keys),
        1,
        60,
        container.log_alerts(),
    )


def exported(container: Container, tenant: str) -> Report:
    to = newest_checkpoint(container.database, tenant)
    lines = [
        json.dumps(line) for line in export_lines(container.database, tenant, 1, to)
    ]
    return verify(lines, database_keys(container.database))


def test_an_export_of_one_tenant_verifies_alone(store, tenant):
    lines = list(export_lines(store.database, tenant.id, 1, tenant.positions[-1]))
    assert {line["tenant_id"] for line in lines if line["kind"] == "event"} == {
        tenant.id
    }
    report = exported(store, tenant.id)
    assert report.ok, report
    assert (report.first_position, report.last_position, report.events) == (
        tenant.positions[0],
        tenant.positions[-1],
        6,
    )
    assert report.checkpoints == 1


def change_payload_byte(container: Container, position: int) -> None:
    """Change one byte of the stored payload at ``position``, in SQL."""
    sql(
        container,
        "UPDATE assurehub_events SET state = overlay(state placing"
        " CASE WHEN get_byte(state, 20) = 65 THEN 'B'::bytea ELSE 'A'::bytea END"
        " from 21 for 1) WHERE notification_id = %s",
        position,
    )


def test_one_changed_payload_byte_is_named(store, tenant):
    bad = tenant.positions[2]
    change_payload_byte(store, bad)
    report = exported(store, tenant.id)
    assert (report.problem, report.position) == (Problem.PAYLOAD_ALTERED, bad)


def test_a_deleted_row_is_named(store, tenant):
    bad = tenant.positions[3]
    sql(store, "DELETE FROM assurehub_events WHERE notification_id = %s", bad)
    report = exported(store, tenant.id)
    assert (report.problem, report.position) == (Problem.EVENT_MISSING, bad)


def test_a_forged_row_with_a_recomputed_hash_is_named(store, tenant):
    before = tenant.positions[2]  # the free positions follow it
    forged = before + 2
    with store.database.connection() as conn:
        state, topic = conn.execute(
            "SELECT state, topic FROM assurehub_events WHERE notification_id = %s",
            (before,),
        ).fetchone()
        previous = conn.execute(
            "SELECT hash FROM event_chain WHERE position = %s", (before,)
        ).fetchone()[0]
        aggregate = uuid.uuid4()
        chained = read_payload(bytes(state))
        digest = event_hash(
            bytes(previous),
            forged,
            tenant.id,
            str(aggregate),
            1,
            topic,
            recorded_time(chained.recorded_at),
            bytes(state),
            chained.meta,
        )
        conn.execute(
            "INSERT INTO assurehub_events (originator_id, originator_version, topic,"
            " state, notification_id) VALUES (%s, 1, %s, %s, %s)",
            (aggregate, topic, state, forged),
        )
        conn.execute(
            "INSERT INTO event_chain VALUES (%s, %s, %s, %s, %s)",
            (forged, tenant.id, chained.recorded_at, previous, digest),
        )
    report = exported(store, tenant.id)
    assert (report.problem, report.position) == (Problem.EVENT_INSERTED, forged)


def test_two_swapped_rows_are_named(store, tenant):
    a, b = tenant.positions[1], tenant.positions[2]
    move = "UPDATE assurehub_events SET notification_id = %s WHERE notification_id = %s"
    sql(store, move, -a, a)
    sql(store, move, a, b)
    sql(store, move, b, -a)
    report = exported(store, tenant.id)
    assert (report.problem, report.position) == (Problem.ORDER_CHANGED, a)


def security_events(container: Container, tenant: str, after: int) -> list[dict]:
    """The tenant's security-events rows, folded by the projection from the
    events stored after ``after``."""
    envelopes = StoredEnvelopes(container.event_store, "/t")
    folded = MemoryFold(SecurityEventsProjection())
    for stored in container.event_store.read_after(after, 10_000):
        folded.apply(envelopes.envelope(stored, stored.id))
    return [
        row
        for row in folded.memory.rows(SECURITY_EVENTS.name)
        if row["tenant_id"] == tenant
    ]


def resolve(container: Container, alert_id: int, note: str) -> int:
    args = argparse.Namespace(verb="resolve", id=alert_id, note=note, by="ops")
    return log_alerts(container.database, container.log_alerts(), args)


def test_the_watcher_alerts_and_readiness_degrades_on_a_mismatch(store, tenant):
    assert store.health.readiness().checks["event_log"] in ("up", "mismatch")
    bad = tenant.positions[-1]
    sql(
        store,
        "UPDATE assurehub_events SET state = state || ' '::bytea"
        " WHERE notification_id = %s",
        bad,
    )
    found = watcher(store).check()
    assert found.reports[tenant.id].problem is Problem.PAYLOAD_ALTERED
    assert tenant.id not in found.signed
    with store.database.connection() as conn:
        alerts = conn.execute(
            "SELECT id, position, problem FROM log_alerts WHERE tenant_id = %s",
            (tenant.id,),
        ).fetchall()
    assert [a[1:] for a in alerts] == [(bad, "payload altered")]
    store.health._cached = None
    assert store.health.readiness().checks["event_log"] == "mismatch"
    assert store.health.readiness().status == "degraded"
    assert verify_live(store.database) == 1

    # A second round finds the same mismatch: still one alert, one event,
    # and the event appended after the break leaves the first bad position.
    again = watcher(store).check()
    assert (again.reports[tenant.id].problem, again.reports[tenant.id].position) == (
        Problem.PAYLOAD_ALTERED,
        bad,
    )
    [row] = security_events(store, tenant.id, bad)
    assert row["kind"] == "event_log.mismatch_detected"
    assert row["position"] > bad
    assert row["actor_id"] == "system:event-log"
    assert row["detail"]["alert_id"] == alerts[0][0]
    assert (row["detail"]["position"], row["detail"]["problem"]) == (
        bad,
        "payload altered",
    )
    assert row["detail"]["segment_from"] <= bad <= row["detail"]["segment_to"]

    # Operators resolve every open alert with a note; readiness recovers.
    with store.database.connection() as conn:
        open_ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM log_alerts WHERE resolved_at IS NULL"
            ).fetchall()
        ]
    for alert_id in open_ids:
        assert resolve(store, alert_id, "restored from backup") == 0
    assert resolve(store, alerts[0][0], "twice") == 1
    with store.database.connection() as conn:
        resolution = conn.execute(
            "SELECT resolved_by, resolution FROM log_alerts WHERE id = %s",
            (alerts[0][0],),
        ).fetchone()
    assert resolution == ("operator:ops", "restored from backup")
    store.health._cached = None
    assert store.health.readiness().checks["event_log"] == "up"
    kinds = [r["kind"] for r in security_events(store, tenant.id, bad)]
    assert kinds == ["event_log.mismatch_detected", "event_log.alert_resolved"]


def test_resolving_an_alert_the_watcher_had_not_recorded_records_both(store, tenant):
    head = tenant.positions[-1]
    with store.database.connection() as conn:
        event_log.raise_alert(conn, tenant.id, head, "event missing", "gone", (1, head))
        [alert] = [a for a in event_log.alerts(conn, False) if a.tenant_id == tenant.id]
    assert alert.event_recorded_at is None
    assert resolve(store, alert.id, "false alarm: replayed") == 0
    rows = security_events(store, tenant.id, head)
    assert [(r["kind"], r["detail"]["alert_id"]) for r in rows] == [
        ("event_log.mismatch_detected", alert.id),
        ("event_log.alert_resolved", alert.id),
    ]
    with store.database.connection() as conn:
        [done] = [a for a in event_log.alerts(conn, True) if a.id == alert.id]
    assert done.event_recorded_at is not None
    assert (done.resolved_by, done.resolution) == (
        "operator:ops",
        "false alarm: replayed",
    )


def test_the_migration_chains_stored_events_as_the_append_does(store, tenant):
    with open("infra/postgres/migrations/0030_event_chain.sql") as f:
        text = f.read()
    backfill = text[text.index("CREATE FUNCTION pg_temp") :]
    with psycopg.connect(str(store.settings.database_url)) as conn:
        written = conn.execute(
            "SELECT position, tenant_id, previous_hash, hash FROM event_chain"
            " ORDER BY position"
        ).fetchall()
        conn.execute("DELETE FROM log_checkpoints")
        conn.execute("DELETE FROM event_chain")
        conn.execute(backfill.encode())
        computed = conn.execute(
            "SELECT position, tenant_id, previous_hash, hash FROM event_chain"
            " ORDER BY position"
        ).fetchall()
        conn.rollback()
    ours = [r for r in written if r[1] == tenant.id]
    assert len(ours) == 6
    assert set(ours) <= set(computed)
