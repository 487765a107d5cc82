"""A rebuild with a new shape, while readers read and writers write: readers
never fail, every event is in the new tables exactly once, and the live
runner carries on after the swap."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from uuid import UUID

import pytest
from psycopg import sql

from commands.context import CommandContext
from commands.organizations import (
    OrganizationService,
    RegisterOrganization,
    RenameOrganization,
)
from domain.principal import Principal, Role
from infra.postgres.progress import ProjectionProgress
from infra.postgres.projection_schemas import ShapeMismatchError, ensure_schema
from infra.postgres.rows import qualified
from infra.projection import rebuild as rebuild_module
from infra.projection.fold_split import Child
from infra.projection.rebuild import Rebuilder, RebuildError
from infra.projection.status import projection_status
from projections.envelope import EventEnvelope
from projections.rows import Column, Rows, Table
from tests.kafka_helpers import new_topic

KINDS = ("registered", "renamed", "details_changed")
V1 = (
    Column("tenant_id", "text", False),
    Column("id", "uuid", False),
    Column("name", "text", False),
    Column("events", "integer", False),
)
V2 = (*V1, Column("country", "text", False), Column("names", "jsonb", False))


class Counting:
    """One row per organization of one tenant, counting its events; the
    second shape also keeps the country and every name (jsonb)."""

    def __init__(self, name: str, tenant_id: str, columns: tuple[Column, ...]):
        self.name = name
        self.tenant_id = tenant_id
        self.tables: tuple[Table, ...] = (
            Table("orgs", columns, key=("tenant_id", "id"), indexes=(("name",),)),
        )
        self.v2 = columns == V2

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        kind = event.type.split(".")[2]
        if event.tenant_id != self.tenant_id or kind not in KINDS:
            return
        key = (event.tenant_id, UUID(event.subject))
        data = event.data
        if kind == "registered":
            row = {"tenant_id": key[0], "id": key[1], "name": data["name"], "events": 1}
            if self.v2:
                row |= {"country": data["country"], "names": [data["name"]]}
            store.insert("orgs", row)
            return
        current = store.get("orgs", key)
        assert current is not None
        changes = {"events": current["events"] + 1}
        if kind == "renamed":
            changes["name"] = data["name"]
            if self.v2:
                changes["names"] = [*current["names"], data["name"]]
        elif self.v2:
            changes["country"] = data["country"]
        store.update("orgs", key, changes)


class Loop:
    """Runs ``work`` in a thread until stopped; keeps what it raised."""

    def __init__(self, work, name: str) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.rounds = 0
        self._work = work
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self._work()
                self.rounds += 1
            except Exception as e:
                self.errors.append(e)

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "a background loop did not stop"


def wait_until_reached(container, projection, topic, timeout=60.0) -> None:
    progress = ProjectionProgress(container.database, topic)
    head = container.event_store.head()
    deadline = time.monotonic() + timeout
    while not progress.has_reached(projection.name, head):
        assert time.monotonic() < deadline, f"{projection.name} did not reach {head}"
        time.sleep(0.05)


def stored_counts(container, tenant_id: str) -> Counter[UUID]:
    """Per organization, its events of the counted kinds in the event store."""
    rebuilder = container.rebuilder()
    return Counter(
        UUID(e.subject)
        for e in rebuilder.events(0)
        if e.tenant_id == tenant_id and e.type.split(".")[2] in KINDS
    )


def organizations(container, tenant: str, count: int, renamed: int) -> list[UUID]:
    """``count`` organizations registered in ``tenant``, every ``renamed``-th
    of them renamed once."""
    admin = Principal(tenant, "alice", frozenset({Role.TENANT_ADMIN}))
    orgs = OrganizationService(container.event_store)
    ctx = CommandContext(admin, f"req-{uuid.uuid4().hex[:8]}")
    ids = [
        orgs.register_organization(ctx, RegisterOrganization(f"Org {n}", "GB")).id
        for n in range(count)
    ]
    for n, org_id in enumerate(ids[::renamed]):
        orgs.rename_organization(ctx, RenameOrganization(org_id, f"Org {n} Ltd"))
    return ids


def test_a_rebuild_swaps_in_a_new_shape_online_without_gap_or_double_apply(
    container, migrated, make_relay
):
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    name = f"rb_{uuid.uuid4().hex[:8]}"
    v1, v2 = Counting(name, tenant, V1), Counting(name, tenant, V2)
    admin = Principal(tenant, "alice", frozenset({Role.TENANT_ADMIN}))
    orgs = OrganizationService(container.event_store)
    ctx = CommandContext(admin, "req-rebuild")
    ids = [
        orgs.register_organization(ctx, RegisterOrganization(f"Org {n}", "GB")).id
        for n in range(40)
    ]
    for n, org_id in enumerate(ids):
        orgs.rename_organization(ctx, RenameOrganization(org_id, f"Org {n} Ltd"))
    with container.database.connection() as conn:
        ensure_schema(conn, v1, store_is_empty=True)
    topic, group = new_topic(migrated), f"g-{uuid.uuid4().hex[:8]}"
    relay = make_relay(topic)

    # The live runner (old code) builds the v1 tables, then a deploy stops it.
    live_v1 = container.runner(v1, topic, group)

    def publish() -> None:
        if relay.step() is None:
            time.sleep(0.05)

    relay_loop = Loop(publish, "relay")
    v1_loop = Loop(live_v1.step, "v1")
    try:
        wait_until_reached(container, v1, topic)
    finally:
        v1_loop.close()
        live_v1.close()
    assert v1_loop.errors == []

    # The new code's runner waits for the rebuild (its shape is not there).
    live_v2 = container.runner(v2, topic, group)
    table = qualified(name, "orgs")
    query = sql.SQL("SELECT count(*), sum(events) FROM {} WHERE tenant_id = %s")

    def read() -> None:
        with container.database.connection() as conn:
            conn.execute(query.format(table), (tenant,)).fetchone()

    renames = itertools.count()

    def write() -> None:
        n = next(renames)
        orgs.rename_organization(ctx, RenameOrganization(ids[n % len(ids)], f"W{n}"))
        time.sleep(0.01)

    mismatches: list[Exception] = []

    def consume() -> None:
        try:
            live_v2.step()
        except ShapeMismatchError as e:
            mismatches.append(e)
            time.sleep(0.05)

    reader, writer = Loop(read, "reader"), Loop(write, "writer")
    v2_loop = Loop(consume, "v2")
    progress: list[tuple[int, int]] = []
    try:
        deadline = time.monotonic() + 60
        while not mismatches:  # it joined its group and found the old shape
            assert time.monotonic() < deadline, "the v2 runner never polled"
            time.sleep(0.05)
        rebuilder = Rebuilder(
            container.database,
            container.event_store,
            migrated.event_source,
            topic,
            lambda: container.topic_partitions(topic),
            page_size=200,
            swap_lag=20,
        )
        reads_before = reader.rounds
        result = rebuilder.rebuild(
            v2, lambda done, total: progress.append((done, total))
        )
        assert reader.rounds > reads_before
        time.sleep(0.5)  # commands keep coming after the swap
        writer.close()
        wait_until_reached(container, v2, topic)
    finally:
        for loop in (writer, reader, v2_loop, relay_loop):
            loop.close()
        live_v2.close()

    assert reader.errors == []
    assert writer.errors == []
    assert v2_loop.errors == []
    assert result.parked == 0
    assert progress
    assert progress[-1][0] <= progress[-1][1]

    # Every event of every organization is in the new tables exactly once,
    # including those recorded during and after the rebuild.
    expected = stored_counts(container, tenant)
    assert writer.rounds > 0
    assert sum(expected.values()) > 2 * len(ids)
    with container.database.connection() as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT id, events, country, names, name FROM {} WHERE tenant_id = %s"
            ).format(table),
            (tenant,),
        ).fetchall()
    assert {r[0]: r[1] for r in rows} == dict(expected)
    assert all(r[2] == "GB" for r in rows)  # the new column, old events included
    assert all(len(r[3]) == r[1] and r[3][-1] == r[4] for r in rows)
    [status] = projection_status(
        container.database, container.event_store, topic, (v2,)
    )
    assert not status.needs_rebuild
    assert status.parked == 0


class HaltsOnRenames:
    """A ``halt`` projection that cannot take a rename of its tenant."""

    on_error = "halt"

    def __init__(self, name: str, tenant_id: str) -> None:
        self.name = name
        self.tenant_id = tenant_id
        self.tables: tuple[Table, ...] = (
            Table("seen", V1[:2], key=("tenant_id", "id")),
        )

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        if event.tenant_id != self.tenant_id:
            return
        if event.type.split(".")[2] == "renamed":
            raise ValueError("renames are not understood")
        store.insert("seen", {"tenant_id": event.tenant_id, "id": UUID(event.subject)})


def test_rebuilding_several_in_one_pass_swaps_each_that_folds_and_names_the_others(
    container, migrated
):
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    counting = Counting(f"rb_{uuid.uuid4().hex[:8]}", tenant, V2)
    halting = HaltsOnRenames(f"rb_{uuid.uuid4().hex[:8]}", tenant)
    ids = organizations(container, tenant, 5, renamed=5)
    with container.database.connection() as conn:
        ensure_schema(conn, counting, store_is_empty=True)
        ensure_schema(conn, halting, store_is_empty=True)
    rebuilder = container.rebuilder(new_topic(migrated))

    with pytest.raises(RebuildError, match=f"{halting.name} halts on event"):
        rebuilder.rebuild_all((halting, counting))

    with container.database.connection() as conn:
        rows = conn.execute(
            sql.SQL("SELECT id, events FROM {} WHERE tenant_id = %s").format(
                qualified(counting.name, "orgs")
            ),
            (tenant,),
        ).fetchall()
        seen = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(qualified(halting.name, "seen"))
        ).fetchone()
        leftovers = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            (f"%{halting.name}__rebuild",),
        ).fetchall()
    assert dict(rows) == dict(stored_counts(container, tenant))
    assert dict(rows)[ids[0]] == 2
    assert seen == (0,)  # the halted one's tables were left as they were
    assert leftovers == []
    # Both rebuild locks were released.
    assert rebuilder.rebuild(counting).projection == counting.name


class IdsAsText:
    """Keeps organization ids given as text in a ``uuid`` column (which the
    binary COPY cannot dump, so that table goes in the text format)."""

    def __init__(self, name: str, tenant_id: str) -> None:
        self.name = name
        self.tenant_id = tenant_id
        self.tables: tuple[Table, ...] = (
            Table(
                "ids", (*V1[:2], Column("version", "bigint")), key=("tenant_id", "id")
            ),
        )

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        if (
            event.tenant_id == self.tenant_id
            and event.type.split(".")[1] == "organization"
        ):
            row = {"tenant_id": event.tenant_id, "id": event.subject}
            store.upsert("ids", row | {"version": event.aggregate_version})


def table_rows(container, projection) -> dict[str, list[tuple]]:
    with container.database.connection() as conn:
        return {
            table.name: conn.execute(
                sql.SQL("SELECT * FROM {} ORDER BY 1, 2").format(
                    qualified(projection.name, table.name)
                )
            ).fetchall()
            for table in projection.tables
        }


def test_a_rebuild_split_over_two_processes_builds_what_one_process_builds(
    container, migrated, monkeypatch
):
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    organizations(container, tenant, 60, renamed=3)
    counting = Counting(f"rb_{uuid.uuid4().hex[:8]}", tenant, V2)
    as_text = IdsAsText(f"rb_{uuid.uuid4().hex[:8]}", tenant)
    halting = HaltsOnRenames(f"rb_{uuid.uuid4().hex[:8]}", tenant)
    with container.database.connection() as conn:
        for projection in (counting, as_text, halting):
            ensure_schema(conn, projection, store_is_empty=True)
    topic = new_topic(migrated)

    def rebuilder(split_from: int | None) -> Rebuilder:
        return Rebuilder(
            container.database,
            container.event_store,
            migrated.event_source,
            topic,
            lambda: [0],
            page_size=50,
            split_from=split_from,
        )

    rebuilder(None).rebuild_all((counting, as_text))
    alone = {p.name: table_rows(container, p) for p in (counting, as_text)}
    forked: list[Child] = []

    class Spy(Child):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            forked.append(self)

    monkeypatch.setattr(rebuild_module, "Child", Spy)
    with pytest.raises(RebuildError, match=f"{halting.name} halts on event"):
        rebuilder(0).rebuild_all((counting, as_text, halting))

    assert len(forked) == 1
    split = {p.name: table_rows(container, p) for p in (counting, as_text)}
    assert split == alone
    assert len(alone[counting.name]["orgs"]) == 60
    assert sum(row[2] for row in alone[as_text.name]["ids"]) == 80
    with container.database.connection() as conn:
        leftovers = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            ("%__rebuild",),
        ).fetchall()
    assert leftovers == []
