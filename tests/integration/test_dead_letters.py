"""An event a projection cannot apply is parked, not lost and not blocking:
the others apply, status shows it, and a replay after the fix applies it."""

from __future__ import annotations

import argparse
import json
import time
import uuid
from typing import Any
from uuid import UUID

import pytest
from psycopg import sql

from commands.context import CommandContext
from commands.organizations import (
    AddSite,
    OrganizationService,
    RegisterOrganization,
    RenameOrganization,
)
from domain.principal import Principal, Role
from infra.postgres.progress import ProjectionProgress
from infra.postgres.projection_schemas import ensure_schema
from infra.postgres.rows import qualified
from infra.projection.replay import ReplayRefusedError, replay
from infra.projection.status import projection_status
from processors.cli import projections_command
from projections.envelope import EventEnvelope
from projections.rows import Column, Rows, Table
from tests.kafka_helpers import new_topic

ORGS = Table(
    "orgs",
    (
        Column("tenant_id", "text", False),
        Column("id", "uuid", False),
        Column("name", "text", False),
        Column("sites", "integer", False),
    ),
    key=("tenant_id", "id"),
)


class Fragile:
    """Counts sites of one tenant's organizations; raises on site events
    while ``broken`` (a bug, fixed by a deploy)."""

    tables: tuple[Table, ...] = (ORGS,)

    def __init__(self, tenant_id: str) -> None:
        self.name = f"dl_{uuid.uuid4().hex[:8]}"
        self.tenant_id = tenant_id
        self.broken = True

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        if event.tenant_id != self.tenant_id:
            return
        key = (event.tenant_id, UUID(event.subject))
        kind = event.type.split(".")[2]
        if kind == "registered":
            store.insert("orgs", {"tenant_id": key[0], "id": key[1], "sites": 0,
                                  "name": event.data["name"]})  # fmt: skip
        elif kind == "renamed":
            store.update("orgs", key, {"name": event.data["name"]})
        elif kind == "site_added":
            row = store.get("orgs", key)
            assert row is not None
            store.update("orgs", key, {"sites": row["sites"] + 1})
            if self.broken:
                raise RuntimeError("bug: sites counted twice")


def read(container, projection: Fragile, org_id: UUID) -> dict[str, Any] | None:
    query = "SELECT name, sites FROM {} WHERE tenant_id = %s AND id = %s"
    with container.database.connection() as conn:
        row = conn.execute(
            sql.SQL(query).format(qualified(projection.name, "orgs")),
            (projection.tenant_id, org_id),
        ).fetchone()
    return {"name": row[0], "sites": row[1]} if row else None


def parked(container, projection: Fragile) -> list[tuple[str, str]]:
    with container.database.connection() as conn:
        rows = conn.execute(
            "SELECT event_type, error FROM projection_dead_letters"
            " WHERE projection = %s AND state = 'parked' ORDER BY position",
            (projection.name,),
        ).fetchall()
    return [(t.split(".")[2], e) for t, e in rows]


def project_all(container, runner, topic: str, make_relay) -> None:
    relay = make_relay(topic)
    while relay.step() is not None:
        pass
    head = container.event_store.head()
    progress = ProjectionProgress(container.database, topic)
    deadline = time.monotonic() + 60
    while not progress.has_reached(runner.projection.name, head):
        assert time.monotonic() < deadline, "the projection did not catch up in 60 s"
        runner.step()


@pytest.fixture
def fragile(container, migrated):
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    projection = Fragile(tenant)
    with container.database.connection() as conn:
        ensure_schema(conn, projection, store_is_empty=True)
    return projection


def test_a_failing_event_is_parked_with_its_aggregates_later_events_and_replayed(
    container, migrated, make_relay, fragile
):
    admin = Principal(fragile.tenant_id, "alice", frozenset({Role.TENANT_ADMIN}))
    ctx = CommandContext(admin, "req-dl")
    orgs = OrganizationService(container.event_store)
    hit = orgs.register_organization(ctx, RegisterOrganization("Hit Ltd", "GB")).id
    orgs.add_site(ctx, AddSite(hit, "Plant", "1 Mill Lane"))
    orgs.rename_organization(ctx, RenameOrganization(hit, "Hit Renamed Ltd"))
    fine = orgs.register_organization(ctx, RegisterOrganization("Fine Ltd", "FR")).id
    orgs.rename_organization(ctx, RenameOrganization(fine, "Fine Renamed Ltd"))
    topic = new_topic(migrated)
    runner = container.runner(fragile, topic, group=f"g-{uuid.uuid4().hex[:8]}")
    try:
        project_all(container, runner, topic, make_relay)

        # The other organization is fully applied; the failing site event is
        # parked with its error, and the later rename of the same organization
        # waits behind it rather than apply to a suspect row.
        assert read(container, fragile, fine) == {
            "name": "Fine Renamed Ltd",
            "sites": 0,
        }
        assert read(container, fragile, hit) == {"name": "Hit Ltd", "sites": 0}
        assert [kind for kind, _ in parked(container, fragile)] == [
            "site_added",
            "renamed",
        ]
        [(_, error), (_, waits)] = parked(container, fragile)
        assert "RuntimeError: bug: sites counted twice" in error
        assert waits.startswith("waits for an earlier parked event")
        [status] = projection_status(
            container.database, container.event_store, topic, (fragile,)
        )
        assert (status.parked, status.lag_events) == (2, 0)

        # A later event is not replayed out of order on its own...
        [rename_id] = [
            e.id
            for e in container.rebuilder(topic).events(0)
            if e.subject == str(hit) and e.type.endswith("renamed.v1")
        ]
        with pytest.raises(ReplayRefusedError):
            replay(container.database, fragile, rename_id)
        # ...a replay while still broken keeps both, with the new error...
        result = replay(container.database, fragile)
        assert (len(result.applied), len(result.failed), len(result.waiting)) == (
            0,
            1,
            1,
        )
        assert read(container, fragile, hit) == {"name": "Hit Ltd", "sites": 0}

        # ...and after the fix the replay applies both, in order.
        fragile.broken = False
        result = replay(container.database, fragile)
        assert (len(result.applied), result.failed) == (2, {})
        assert parked(container, fragile) == []
        assert read(container, fragile, hit) == {"name": "Hit Renamed Ltd", "sites": 1}

        # Live events of that organization apply again.
        orgs.rename_organization(ctx, RenameOrganization(hit, "Hit Final Ltd"))
        project_all(container, runner, topic, make_relay)
        assert read(container, fragile, hit) == {"name": "Hit Final Ltd", "sites": 1}
    finally:
        runner.close()


def test_status_lists_every_registered_projection_as_json(container, migrated, capsys):
    args = argparse.Namespace(verb="status", json=True)
    assert projections_command(migrated, args) == 0
    statuses = {s["projection"]: s for s in json.loads(capsys.readouterr().out)}
    assert {"organizations", "certificate_expiry"} <= set(statuses)
    organizations = statuses["organizations"]
    assert organizations["needs_rebuild"] is False
    assert organizations["head"] == container.event_store.head()
    assert organizations["reached"] <= organizations["head"]
    assert set(organizations) >= {"lag_events", "lag_seconds", "parked", "positions"}
