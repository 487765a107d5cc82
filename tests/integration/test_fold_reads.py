"""What an as-of fold reads from Postgres in one statement: the version in
force at a time (through the event-time index), the newest fold snapshot at
or below it, the events after it and the joined aggregates' events; and a
pooled connection that died meanwhile costs one retry, not an error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import psycopg

from domain.events import EventMeta
from domain.organization import Organization
from infra.eventstore.fold_reads import FoldQuery
from infra.eventstore.store import LibraryEventStore, postgres_env
from infra.projection.as_of import AsOfFolds, AtTime, AtVersion
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.organizations import OrganizationProjection

META = EventMeta("tenant-folds", "alice", "req-folds", "req-folds")


def _renamed(store, times: int) -> tuple[Organization, list]:
    org = Organization.register(META, "Fold Ltd", "NL")
    store.append(org)
    moments = [org.modified_on]
    for n in range(times):
        org.rename(META, f"Fold {n} Ltd")
        store.append(org)
        moments.append(org.modified_on)
    return org, moments


def test_a_time_reads_the_version_in_force_then_and_the_snapshot_below_it(container):
    store = container.event_store
    org, moments = _renamed(store, 7)
    other, _ = _renamed(store, 1)
    folds = AsOfFolds(store, StoredEnvelopes(store, "test"), interval=3)
    projection = OrganizationProjection()
    folds.fold(projection, org.id, [], AtVersion(8))  # stores snapshots at 3 and 6

    for version, moment in enumerate(moments, start=1):
        for at in (moment, moment + timedelta(microseconds=1)):
            read = store.fold_read(FoldQuery(org.id, (other.id,), None, time=at))
            assert (read.version, read.newest) == (version, 8)
            assert [n.originator_id for n in read.related] == [other.id] * 2
        folded = folds.fold(projection, org.id, [], AtTime(moment))
        assert folded is not None
        assert folded.moment.version == version
    before = moments[0] - timedelta(microseconds=1)
    read = store.fold_read(FoldQuery(org.id, (), None, time=before))
    assert (read.version, read.events, read.newest) == (None, [], 8)

    key = _snapshot_key(container)
    read = store.fold_read(FoldQuery(org.id, (), key, version=7))
    assert read.snapshot is not None
    assert read.snapshot.originator_version == 6
    assert [n.originator_version for n in read.events] == [7, 8]


def _snapshot_key(container):
    url = str(container.settings.database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT originator_id FROM assurehub_snapshots"
            " WHERE topic LIKE '%%FoldSnapshot' AND originator_version = 6"
        ).fetchone()
    assert row is not None
    return row[0]


def test_a_pooled_connection_that_died_is_retried_once(container):
    env = {**postgres_env(container.settings), "POSTGRES_POOL_SIZE": "1"}
    store = LibraryEventStore({**env, "POSTGRES_MAX_OVERFLOW": "0"})
    try:
        org, _ = _renamed(store, 2)
        query = FoldQuery(org.id, (), None, version=3)
        assert store.fold_read(query).version == 3
        with cast(Any, store.app.recorder).datastore.pool.connection() as pooled:
            pid = pooled.info.backend_pid  # the pool's one connection
        url = str(container.settings.database_url)
        with psycopg.connect(url, autocommit=True) as conn:
            killed = conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
        assert killed == (True,)
        read = store.fold_read(query)
        assert [n.originator_version for n in read.events] == [1, 2, 3]
    finally:
        store.close()
