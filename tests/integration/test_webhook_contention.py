"""A replay from the API while the sender records a batch of outcomes:
both lock the subscription's row first, so the replay waits for the batch
instead of deadlocking with it; a transaction Postgres still aborts for
contention is a 503 with Retry-After, not a 500; a delivery queued behind
one being recorded delivered is not left parked."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI

from infra.eventstore.store import EVENTS_TABLE
from infra.postgres.webhook_parking import lock_deliveries, lock_subscriptions
from infra.postgres.webhooks import (
    AttemptOutcome,
    Owed,
    PostgresWebhooks,
    _record,
    enqueue,
)
from read_api.problems import install_problem_handlers
from tests.in_process import send
from tests.webhook_queue import WINDOW, claim, subscribed


def waiting_for_a_lock(container, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with container.database.connection() as conn:
            [n] = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE '%webhook_%'"
            ).fetchone()
        if n:
            return
        time.sleep(0.02)
    raise AssertionError("no transaction waited for a lock")


def test_a_replay_during_a_batch_of_outcomes_waits_instead_of_deadlocking(container):
    ctx, sid, start = subscribed(container)
    tenant = ctx.principal.tenant_id
    queue = PostgresWebhooks(container.database, EVENTS_TABLE)
    with container.database.connection() as conn, conn.transaction():
        enqueue(
            conn,
            [
                Owed(tenant, f"{tenant}-{n}", "t.v1", f"agg-{n}", start + n, None, "{}")
                for n in (1, 2)
            ],
        )
    first, second = sorted(claim(queue, {sid}), key=lambda d: d.position)
    replayed: list[object] = []

    def replay() -> None:
        try:
            replayed.append(queue.replay(tenant, sid, start + 1, None))
        except Exception as e:
            replayed.append(e)

    # a batch of outcomes written as the sender's settle writes it, with a
    # replay of both deliveries arriving between its statements
    with container.database.connection() as conn, conn.transaction():
        lock_subscriptions(conn, [sid], exclusive=False)
        lock_deliveries(conn, [first.delivery_id, second.delivery_id])
        done = AttemptOutcome(first, datetime.now(UTC), 1, 204, None, None)
        _record(conn, [done], WINDOW)
        thread = threading.Thread(target=replay, daemon=True)
        thread.start()
        waiting_for_a_lock(container)
        done = AttemptOutcome(second, datetime.now(UTC), 1, 204, None, None)
        _record(conn, [done], WINDOW)
    thread.join(timeout=30)

    assert replayed == [2]
    by_event = {d.event_id: d for d in queue.deliveries(tenant, sid, None, 10)}
    assert {d.state for d in by_event.values()} == {"pending"}, "replayed after"
    assert all(len(d.attempts) == 1 for d in by_event.values())


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_postgres_aborting_a_request_for_contention_is_a_503(container, sqlstate):
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/probe")
    def probe() -> None:
        with container.database.connection() as conn:
            conn.execute(
                "DO $$ BEGIN RAISE EXCEPTION 'aborted' USING ERRCODE = '"
                + sqlstate
                + "'; END $$"
            )

    (answer,) = send(app, [{"method": "POST", "url": "/probe"}])

    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["code"] == "database-contention"


def test_a_delivery_queued_while_the_one_before_it_is_recorded_is_not_left_parked(
    container,
):
    """The fan-out queues B behind A while the sender records A delivered:
    B ends up sendable whichever transaction commits first."""
    ctx, sid, start = subscribed(container)
    tenant = ctx.principal.tenant_id
    queue = PostgresWebhooks(container.database, EVENTS_TABLE)

    def owed(n: int) -> Owed:
        return Owed(tenant, f"{tenant}-{n}", "t.v1", "agg", start + n, None, "{}")

    with container.database.connection() as conn, conn.transaction():
        enqueue(conn, [owed(1)])
    [a] = claim(queue, {sid})
    recorded: list[object] = []

    def record_a() -> None:
        done = AttemptOutcome(a, datetime.now(UTC), 1, 204, None, None)
        recorded.append(queue.settle([done], 0, 30.0, WINDOW))

    with container.database.connection() as conn, conn.transaction():
        enqueue(conn, [owed(2)])  # parked behind A, which is still pending
        thread = threading.Thread(target=record_a, daemon=True)
        thread.start()
        waiting_for_a_lock(container)
    thread.join(timeout=30)

    assert recorded == [([], [])]
    with container.database.connection() as conn:
        rows = conn.execute(
            "SELECT position - %s, state, parked FROM webhook_deliveries"
            " WHERE subscription_id = %s ORDER BY position",
            (start, sid),
        ).fetchall()
    assert rows == [(1, "delivered", False), (2, "pending", False)]
    assert [d.event_id for d in claim(queue, {sid})] == [f"{tenant}-2"]
