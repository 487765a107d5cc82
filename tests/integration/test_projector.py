"""The projection runner: exactly-once effects over at-least-once delivery."""

from __future__ import annotations

import logging
import time
import uuid

import pytest

from commands.context import CommandContext
from commands.organizations import AddSite, OrganizationService, RegisterOrganization
from domain.principal import Principal, Role
from infra.postgres.progress import ProjectionProgress
from infra.projection.runner import ProjectionHaltedError, ProjectionRunner
from infra.streaming import kafka
from projections.organizations import OrganizationProjection
from tests.kafka_helpers import new_topic

ADMIN = Principal("tenant-proj", "alice", frozenset({Role.TENANT_ADMIN}))


def runner_for(container, settings, topic, group, projection=None):
    return ProjectionRunner(
        projection or OrganizationProjection(),
        container.database,
        lambda g: kafka.consumer(settings, g, topic),
        topic,
        group=group,
    )


def step_until(runner, done, *, commit_offsets=True, timeout=90.0):
    totals = [0, 0]
    deadline = time.monotonic() + timeout
    while not done(totals):
        assert time.monotonic() < deadline, f"timed out at {totals}"
        result = runner.step(commit_offsets=commit_offsets)
        totals[0] += result.applied
        totals[1] += result.skipped
    return totals


def published_org_with_site(container, topic, make_relay):
    service = OrganizationService(container.event_store)
    ctx = CommandContext(ADMIN, "req-proj")
    org = service.register_organization(ctx, RegisterOrganization("Once Ltd", "IT"))
    site = service.add_site(ctx, AddSite(org.id, "Plant", "Via Roma 1"))
    relay = make_relay(topic)
    while relay.step() is not None:
        pass
    return org.id, site.position


def test_progress_is_reached_only_after_the_projection_applied_it(
    container, migrated, make_relay
):
    topic = new_topic(migrated)
    org_id, position = published_org_with_site(container, topic, make_relay)
    progress = ProjectionProgress(container.database, topic)
    assert not progress.has_reached("organizations", position)

    runner = runner_for(container, migrated, topic, f"g-{uuid.uuid4().hex[:8]}")
    try:
        step_until(runner, lambda _: progress.has_reached("organizations", position))
    finally:
        runner.close()
    record = container.organization_view.get(ADMIN, org_id)
    assert record is not None
    assert [s.name for s in record.sites] == ["Plant"]


def test_redelivery_after_a_crash_between_db_and_offset_commit_changes_nothing(
    container, migrated, make_relay
):
    topic = new_topic(migrated)
    org_id, position = published_org_with_site(container, topic, make_relay)
    progress = ProjectionProgress(container.database, topic)
    group = f"g-{uuid.uuid4().hex[:8]}"

    crashed = runner_for(container, migrated, topic, group)
    step_until(
        crashed,
        lambda _: progress.has_reached("organizations", position),
        commit_offsets=False,  # the DB transaction committed, the offset never did
    )
    crashed.close()
    before = container.organization_view.get(ADMIN, org_id)

    restarted = runner_for(container, migrated, topic, group)
    try:
        applied, _skipped = step_until(restarted, lambda t: t[1] >= 2)
    finally:
        restarted.close()

    assert applied == 0
    after = container.organization_view.get(ADMIN, org_id)
    assert after == before
    assert after is not None
    assert len(after.sites) == 1


def tracked_positions(container, topic) -> dict[int, int]:
    with container.database.connection() as conn:
        rows = conn.execute(
            "SELECT partition, position FROM projection_tracking WHERE topic = %s",
            (topic,),
        ).fetchall()
    return dict(rows)


class Exploding(OrganizationProjection):
    """Fails on site events, as a projection with a bug would, and halts."""

    on_error = "halt"

    def apply(self, event, store):
        if event.type.endswith("site_added.v1"):
            raise RuntimeError("bug in projection")
        super().apply(event, store)


def test_a_failing_batch_writes_nothing_and_is_delivered_again(
    container, migrated, make_relay
):
    topic = new_topic(migrated)
    org_id, position = published_org_with_site(container, topic, make_relay)
    group = f"g-{uuid.uuid4().hex[:8]}"
    progress = ProjectionProgress(container.database, topic)

    broken = runner_for(container, migrated, topic, group, Exploding())
    with pytest.raises(ProjectionHaltedError, match="bug in projection"):
        step_until(broken, lambda _: False, timeout=30)
    broken.close()
    # The failed batch left no tracking behind (its writes were rolled back
    # with it), so nothing counts as applied and the events come again; the
    # event it halted at is on record until it applies.
    assert tracked_positions(container, topic) == {}
    assert not progress.has_reached("organizations", position)
    # (The relay republishes the whole store to a new topic: the first site
    # event of any test is where it halts.)
    [halted] = halted_events(container, topic)
    assert halted.endswith("site_added.v1")

    fixed = runner_for(container, migrated, topic, group)
    try:
        applied, _ = step_until(
            fixed, lambda _: progress.has_reached("organizations", position)
        )
    finally:
        fixed.close()
    assert applied >= 2  # both events of the failed batch were delivered again
    record = container.organization_view.get(ADMIN, org_id)
    assert record is not None
    assert len(record.sites) == 1
    assert halted_events(container, topic) == []


def halted_events(container, topic) -> list[str]:
    """Types of the events the organizations projection halted at on ``topic``."""
    with container.database.connection() as conn:
        rows = conn.execute(
            "SELECT event_type FROM projection_dead_letters"
            " WHERE projection = 'organizations' AND state = 'halted'"
            " AND topic = %s",
            (topic,),
        ).fetchall()
    return [r[0] for r in rows]


def test_a_backlog_larger_than_one_megabyte_per_fetch_is_projected(
    container, migrated, make_relay, caplog
):
    """Fetch responses over kafka-python's default 1 MB frame limit are read
    without the connection being dropped and the fetch retried."""
    from domain.events import EventMeta
    from domain.organization import Organization

    meta = EventMeta("tenant-proj", "alice", "req-big", "req-big")
    orgs = []
    for n in range(300):  # ~3 MB of events over every partition
        org = Organization.register(meta, f"Backlog {n}", "NO")
        for i in range(10):
            org.add_site(meta, f"Site {i}", "Fjordveien " + "x" * 480, None)
        position = container.event_store.append(org)
        orgs.append(org.id)
    topic = new_topic(migrated)
    relay = make_relay(topic)
    while relay.step() is not None:
        pass
    progress = ProjectionProgress(container.database, topic)
    runner = runner_for(container, migrated, topic, f"g-{uuid.uuid4().hex[:8]}")
    try:
        with caplog.at_level(logging.WARNING, logger="kafka"):
            step_until(
                runner,
                lambda _: progress.has_reached("organizations", position),
                timeout=60,
            )
    finally:
        runner.close()
    dropped = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert dropped == []
    for org_id in (orgs[0], orgs[-1]):
        record = container.organization_view.get(ADMIN, org_id)
        assert record is not None
        assert len(record.sites) == 10
