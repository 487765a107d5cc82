"""The webhook queue records a batch of attempt outcomes and claims the next
batch in one transaction: a delivery just recorded frees the next of its
aggregate for that very claim, a failure is scheduled again, an outcome
whose lease has passed changes nothing, and a claim given back is due at
once with its attempt uncounted, also when a stopping sender gives back the
claims it had not sent yet."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

from infra.eventstore.store import EVENTS_TABLE
from infra.postgres.webhooks import (
    AttemptOutcome,
    DueDelivery,
    Owed,
    PostgresWebhooks,
    enqueue,
)
from infra.webhooks.sender import RetryPolicy, WebhookSender
from infra.webhooks.targets import TargetPolicy
from infra.webhooks.transport import HttpTransport
from tests.webhook_queue import LEASE, WINDOW, claim, subscribed


def outcome(due: DueDelivery, status: int, retry_in: float | None) -> AttemptOutcome:
    error = None if retry_in is None else f"answered {status}"
    return AttemptOutcome(due, datetime.now(UTC), 3, status, error, retry_in)


def test_a_batch_of_outcomes_and_the_next_claim_are_one_transaction(container):
    ctx, sid, start = subscribed(container)
    tenant = ctx.principal.tenant_id
    queue = PostgresWebhooks(container.database, EVENTS_TABLE)
    events = {
        name: Owed(tenant, f"{tenant}-{name}", "t.v1", agg, start + n, None, "{}")
        for n, (name, agg) in enumerate(
            [("a1", "agg-a"), ("b1", "agg-b"), ("a2", "agg-a")], start=1
        )
    }
    with container.database.connection() as conn, conn.transaction():
        assert enqueue(conn, list(events.values())) == 3

    def settle(outcomes=()) -> dict[str, DueDelivery]:
        """Settle, keeping our claims and giving back other tests' ones."""
        paused: list[uuid.UUID] = []
        ours = claim(queue, {sid}, list(outcomes), paused)
        assert paused == []
        return {d.event_id.removeprefix(f"{tenant}-"): d for d in ours}

    first = settle()
    assert sorted(first) == ["a1", "b1"], "a2 waits for a1 (order per aggregate)"
    assert all(d.attempt == 1 for d in first.values())

    # a1 delivered frees a2 in the same call; b1 failed is not due for 60 s
    second = settle([outcome(first["a1"], 204, None), outcome(first["b1"], 503, 60)])
    assert sorted(second) == ["a2"]

    # a stale outcome (a2's lease was given back and claimed again) is ignored
    assert queue.settle([], 0, LEASE, WINDOW, release=[second["a2"]]) == ([], [])
    third = settle()
    assert sorted(third) == ["a2"]
    assert third["a2"].attempt == 1, "a claim given back does not count"
    settle([outcome(second["a2"], 204, None)])

    by_event = {
        d.event_id.removeprefix(f"{tenant}-"): d
        for d in container.services.webhooks.deliveries(ctx, sid, None, 10)
    }
    assert by_event["a1"].state == "delivered"
    assert [a.status_code for a in by_event["a1"].attempts] == [204]
    assert by_event["b1"].state == "pending"
    assert [a.status_code for a in by_event["b1"].attempts] == [503]
    assert by_event["b1"].attempts[0].error == "answered 503"
    assert by_event["a2"].state == "pending", "the stale outcome changed nothing"
    settle([outcome(third["a2"], 204, None)])
    [a2] = [
        d
        for d in container.services.webhooks.deliveries(ctx, sid, None, 10)
        if d.event_id.endswith("-a2")
    ]
    assert a2.state == "delivered"
    assert [a.status_code for a in a2.attempts] == [204]


def test_a_stopping_sender_records_what_it_sent_and_gives_back_the_rest(container):
    """Two deliveries wait behind the one being sent when the sender stops:
    the sent one is recorded, the waiting ones are due again at once (not
    after their lease) and their attempt is not counted."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    started = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            started.set()
            time.sleep(1.0)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    ctx, sid, start = subscribed(container, f"http://127.0.0.1:{httpd.server_port}/in")
    tenant = ctx.principal.tenant_id
    with container.database.connection() as conn, conn.transaction():
        enqueue(
            conn,
            [
                Owed(tenant, f"{tenant}-{n}", "t.v1", f"agg-{n}", start + n, None, "{}")
                for n in (1, 2, 3)
            ],
        )
    queue = PostgresWebhooks(container.database, EVENTS_TABLE)
    sender = WebhookSender(
        queue,
        TargetPolicy(True),
        HttpTransport(5, 1024),
        RetryPolicy(60, 60, WINDOW),
        lease_seconds=LEASE,
        concurrency=1,
    )
    stop = threading.Event()
    thread = threading.Thread(target=sender.run, args=(stop, 0.1), daemon=True)
    try:
        thread.start()
        assert started.wait(30), "the first POST did not start"
        stop.set()
        thread.join(timeout=30)
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
    with container.database.connection() as conn:
        rows = conn.execute(
            "SELECT position - %s, state, attempts,"
            " state = 'delivered' OR next_attempt_at <= now()"
            " FROM webhook_deliveries WHERE subscription_id = %s ORDER BY position",
            (start, sid),
        ).fetchall()
    assert rows == [
        (1, "delivered", 1, True),
        (2, "pending", 0, True),
        (3, "pending", 0, True),
    ]
