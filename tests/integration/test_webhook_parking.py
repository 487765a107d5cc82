"""A paused subscription's backlog and the deliveries waiting behind an
undelivered one are parked: the claim does not walk them, so another
subscription's delivery is claimed as if they were not there, and resuming
delivers the backlog, each aggregate's events in position order."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from infra.eventstore.store import EVENTS_TABLE
from infra.postgres.webhooks import (
    _CLAIM,
    AttemptOutcome,
    DueDelivery,
    Owed,
    PostgresWebhooks,
    enqueue,
)
from tests.webhook_queue import LEASE, claim, subscribed

AGGREGATES, EACH = 500, 4


def walked_by_a_claim(container) -> int:
    """Entries the claim reads from the due index (the claim rolled back;
    vacuumed first, so only the entries of live rows count)."""
    database = container.database
    with database.connection() as conn:
        conn.execute("VACUUM webhook_deliveries")
    with database.connection() as conn, conn.transaction(force_rollback=True):
        [explained] = conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + _CLAIM,
            {"limit": 100_000, "lease": LEASE},
        ).fetchone()
    [plan] = explained if isinstance(explained, list) else json.loads(explained)

    def scans(node: dict) -> list[int]:
        own = (
            [node["Actual Rows"] * node.get("Actual Loops", 1)]
            if node.get("Index Name") == "webhook_deliveries_due"
            else []
        )
        return own + [n for child in node.get("Plans", []) for n in scans(child)]

    return sum(scans(plan["Plan"]))


def test_a_paused_backlog_is_not_walked_and_is_delivered_in_order_on_resume(
    container,
):
    services = container.services.webhooks
    queue = PostgresWebhooks(container.database, EVENTS_TABLE)
    p_ctx, paused, p_start = subscribed(container)
    q_ctx, other, q_start = subscribed(container)
    services.pause(p_ctx, paused)
    backlog = [
        Owed(
            p_ctx.principal.tenant_id,
            f"p-{paused}-{n}",
            "t.v1",
            f"agg-{n % AGGREGATES}",
            p_start + 1 + n,
            None,
            "{}",
        )
        for n in range(AGGREGATES * EACH)
    ]
    with container.database.connection() as conn, conn.transaction():
        assert enqueue(conn, backlog) == len(backlog)
    # other tests' deliveries may be due too: a few, never hundreds
    assert walked_by_a_claim(container) < AGGREGATES, "the paused backlog is walked"

    # another tenant's subscription gets one event: the next claim has it
    with container.database.connection() as conn, conn.transaction():
        one = Owed(
            q_ctx.principal.tenant_id,
            f"q-{other}",
            "t.v1",
            "x",
            q_start + 1,
            None,
            "{}",
        )
        assert enqueue(conn, [one]) == 1
    assert walked_by_a_claim(container) < AGGREGATES
    claimed = claim(queue, {other})
    assert [d.event_id for d in claimed] == [f"q-{other}"]

    # resumed: every aggregate's events arrive in position order
    services.resume(p_ctx, paused)
    sent: list[DueDelivery] = []
    held: list[DueDelivery] = []
    for round in range(EACH + 3):
        outcomes = [
            AttemptOutcome(d, datetime.now(UTC), 1, 204, None, None) for d in held
        ]
        held = claim(queue, {paused}, outcomes)
        sent += held
        if round == 0:
            assert len(held) == AGGREGATES, "each aggregate's first is sent"
            # the lines behind the first ones (being sent) are not walked
            assert walked_by_a_claim(container) < AGGREGATES
        if not held:
            break
    assert len(sent) == len(backlog)
    assert len({d.delivery_id for d in sent}) == len(backlog)
    by_aggregate: dict[int, list[int]] = {}
    for d in sent:
        by_aggregate.setdefault((d.position - p_start - 1) % AGGREGATES, []).append(
            d.position
        )
    assert all(p == sorted(p) for p in by_aggregate.values())
