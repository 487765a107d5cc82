"""The webhook sender's claim beside deliveries it cannot send yet.

One tenant's subscription has one due delivery; the figure is the sender's
round that claims it (:meth:`PostgresWebhooks.settle`, the claim alone: no
outcome to record), median and p99 over ``rounds`` rounds, the claim given
back after each. Its same-run baseline is that round with nothing else
queued. Then, in the same database:

- a paused subscription of another tenant with ``backlog`` deliveries
  queued (its events keep coming while paused);
- an active subscription whose receiver fails: ``backlog`` deliveries over
  ``aggregates`` aggregates, the first of each waiting out its backoff and
  the rest queued behind it.

Neither kind can be sent, so a claim that walks them pays for it on every
round of every sender.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.common import percentile
from commands.webhooks import Subscribe
from infra.eventstore.store import EVENTS_TABLE
from infra.postgres.pool import Database
from infra.postgres.webhooks import AttemptOutcome, Owed, PostgresWebhooks, enqueue
from infra.settings import Settings

LEASE = 30.0
WINDOW = 86_400.0
_BATCH = 1000


@dataclass(frozen=True)
class Row:
    """One situation's claim rounds (ms)."""

    situation: str
    rounds: list[float]

    def p(self, q: float) -> float:
        return percentile(self.rounds, q)


def run(settings: Settings, backlog: int, aggregates: int, rounds: int) -> list[Row]:
    """The claim round alone, beside a paused backlog, beside a line behind
    failing deliveries (one database, in that order)."""
    database = Database.from_settings(settings)
    queue = PostgresWebhooks(database, EVENTS_TABLE)
    try:
        tenant, sid = _subscription(queue, "bench-claims")
        _queue(database, tenant, [f"due-{sid}"], 1)
        rows = [Row("nothing else queued (baseline)", _rounds(queue, sid, rounds))]
        paused_tenant, paused = _subscription(queue, "bench-paused")
        queue.set_state(paused_tenant, paused, "paused", "bench")
        _queue(database, paused_tenant, _aggregates(aggregates), backlog)
        rows.append(
            Row(
                f"{backlog:,} queued for a paused subscription",
                _rounds(queue, sid, rounds),
            )
        )
        failing_tenant, failing = _subscription(queue, "bench-failing")
        _queue(database, failing_tenant, _aggregates(aggregates), backlog)
        _fail_heads(queue, failing)
        rows.append(
            Row(
                f"+ {backlog:,} behind {aggregates} failing deliveries",
                _rounds(queue, sid, rounds),
            )
        )
        return rows
    finally:
        database.close()


def _subscription(queue: PostgresWebhooks, prefix: str) -> tuple[str, uuid.UUID]:
    tenant = f"{prefix}-{uuid.uuid4().hex[:8]}"
    sid = uuid.uuid4()
    queue.add(tenant, sid, Subscribe("http://127.0.0.1:9/in"), "whsec_bench", "bench")
    return tenant, sid


def _aggregates(n: int) -> list[str]:
    return [f"agg-{i}" for i in range(n)]


def _queue(database: Database, tenant: str, aggregates: list[str], n: int) -> None:
    """``n`` events of ``tenant`` round robin over ``aggregates``."""
    for first in range(0, n, _BATCH):
        events = [
            Owed(
                tenant,
                f"{tenant}-{i}",
                "t.v1",
                aggregates[i % len(aggregates)],
                1 + i,
                None,
                "{}",
            )
            for i in range(first, min(first + _BATCH, n))
        ]
        with database.connection() as conn, conn.transaction():
            enqueue(conn, events)
    with database.connection() as conn:
        conn.execute("VACUUM ANALYZE webhook_deliveries")


def _fail_heads(queue: PostgresWebhooks, sid: uuid.UUID) -> None:
    """Claim the failing subscription's first deliveries and record each
    as failed, due again in an hour."""
    _, claimed = queue.settle([], 100_000, LEASE, WINDOW)
    ours = [d for d in claimed if d.subscription_id == sid]
    others = [d for d in claimed if d.subscription_id != sid]
    now = datetime.now(UTC)
    failed = [AttemptOutcome(d, now, 1, 503, "bench", 3600.0) for d in ours]
    queue.settle(failed, 0, LEASE, WINDOW, release=others)


def _rounds(queue: PostgresWebhooks, sid: uuid.UUID, rounds: int) -> list[float]:
    """Claim rounds (ms) that hand out the one due delivery of ``sid``."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        _, claimed = queue.settle([], 32, LEASE, WINDOW)
        times.append((time.perf_counter() - started) * 1000)
        assert [d.subscription_id for d in claimed] == [sid], claimed
        queue.settle([], 0, LEASE, WINDOW, release=claimed)
    return times
