"""Snapshots on the real Postgres: a 10,000-event audit loads from them equal
to its replay; they live apart from the published events; a corrupt one is
ignored."""

from __future__ import annotations

import logging
from uuid import UUID

import psycopg
import pytest

from domain.audit import Audit
from infra.eventstore.store import EVENTS_TABLE, LibraryEventStore, postgres_env
from tests.unit.test_snapshots import long_audit_history

EVENTS = 10_000


@pytest.fixture(scope="module")
def store(migrated):
    """The API's event store: snapshots on, tables made by the migration only."""
    env = postgres_env(migrated)
    assert env["CREATE_TABLE"] == "n"
    s = LibraryEventStore(env)
    yield s
    s.close()


@pytest.fixture(scope="module")
def replaying(migrated):
    s = LibraryEventStore(postgres_env(migrated, snapshots=False))
    yield s
    s.close()


@pytest.fixture(scope="module")
def long_audit(store) -> UUID:
    return long_audit_history(store, events=EVENTS, batch=500)


def rows(migrated, sql: str, audit_id: UUID) -> list[tuple]:
    with psycopg.connect(str(migrated.database_url)) as conn:
        return conn.execute(sql, (audit_id,)).fetchall()


def test_a_long_audit_loads_from_its_snapshots_equal_to_its_replay(
    store, replaying, long_audit, migrated
):
    loaded = store.load(Audit, long_audit)

    assert loaded is not None
    assert loaded.version == EVENTS
    assert loaded == replaying.load(Audit, long_audit)
    versions = rows(
        migrated,
        "SELECT originator_version FROM assurehub_snapshots"
        " WHERE originator_id = %s ORDER BY originator_version",
        long_audit,
    )
    assert [v for (v,) in versions] == list(range(100, EVENTS + 1, 100))


def test_snapshots_never_reach_the_published_log(store, long_audit, migrated):
    stored = rows(
        migrated,
        f"SELECT count(*), max(originator_version), bool_or(topic LIKE '%%Snapshot%%')"
        f" FROM {EVENTS_TABLE} WHERE originator_id = %s",
        long_audit,
    )
    assert stored == [(EVENTS, EVENTS, False)]
    head = store.head()
    notifications = store.read_after(head - 100, 100)
    assert all("Snapshot" not in n.topic for n in notifications)


def test_a_corrupt_snapshot_is_ignored_and_the_events_replayed(
    store, replaying, long_audit, migrated, caplog
):
    with psycopg.connect(str(migrated.database_url)) as conn:
        conn.execute(
            "UPDATE assurehub_snapshots SET state = %s"
            " WHERE originator_id = %s AND originator_version = %s",
            (b'{"state": {"format": 1, "garbage', long_audit, EVENTS),
        )

    with caplog.at_level(logging.WARNING, logger="infra.eventstore.snapshots"):
        loaded = store.load(Audit, long_audit)

    assert loaded == replaying.load(Audit, long_audit)
    assert "snapshot ignored" in caplog.text
