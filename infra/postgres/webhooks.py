"""Webhook subscriptions and deliveries in Postgres (migrations 0043, 0046,
0056).

:class:`PostgresWebhooks` is the command side's
:class:`~commands.webhooks.WebhookStore` (every statement names the tenant)
and the dispatcher's queue:

- :func:`enqueue` runs inside the fan-out consumer's transaction: one
  delivery row per matching subscription, unique per (subscription, event),
  so a redelivered batch adds nothing.
- :meth:`PostgresWebhooks.settle` first writes a batch of attempts, marking
  each delivery delivered or scheduling its next try (when its failures have
  lasted the retry window, the subscription is paused and its tenant's
  administrators get an e-mail through the notification outbox), then, in
  the same transaction, hands out due deliveries of active subscriptions,
  only the oldest pending one per (subscription, aggregate): one aggregate's
  events reach a subscriber in position order. Deliveries that cannot be
  sent yet are parked and left out of the claim's walk
  (:mod:`infra.postgres.webhook_parking`). Claiming pushes
  ``next_attempt_at`` one lease ahead (``FOR UPDATE SKIP LOCKED``), so a
  dispatcher killed mid-attempt leaves it to be sent again once the lease
  has passed (at least once).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from commands.webhooks import Attempt, Delivery, Subscribe, Subscription
from infra.postgres.pool import Connection, Database
from infra.postgres.webhook_parking import (
    lock_deliveries,
    lock_subscriptions,
    parked_on_arrival,
    repark_subscription,
    unpark_heads,
)

_COLUMNS = (
    "subscription_id, tenant_id, url, event_types, organization_ids, description,"
    " state, paused_reason, created_at, updated_at,"
    " CASE WHEN previous_until > now() THEN previous_until END"
)

# The oldest pending delivery of its (subscription, aggregate) is found by a
# scalar subquery, which Postgres runs per candidate as the walk along
# webhook_deliveries_due goes, on webhook_deliveries_order (its predicate,
# state <> 'delivered', is one the due index cannot answer). A NOT EXISTS
# becomes an anti join whose plan follows the table's statistics, and on a
# queue table that filled since its last ANALYZE that was a nested loop over
# every due row: seconds per claim with 10,000 pending.
_CLAIM = """
WITH due AS (
    SELECT d.delivery_id FROM webhook_deliveries d
    JOIN webhook_subscriptions s USING (subscription_id)
    WHERE d.state = 'pending' AND NOT d.parked AND d.next_attempt_at <= now()
      AND s.state = 'active'
      AND d.position = (
        SELECT min(e.position) FROM webhook_deliveries e
        WHERE e.subscription_id = d.subscription_id
          AND e.aggregate_id = d.aggregate_id AND e.state <> 'delivered')
    ORDER BY d.next_attempt_at, d.position
    LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1,
    next_attempt_at = now() + make_interval(secs => %(lease)s)
FROM due, webhook_subscriptions s
WHERE d.delivery_id = due.delivery_id AND s.subscription_id = d.subscription_id
RETURNING d.delivery_id, d.subscription_id, d.tenant_id, s.url, d.event_id,
    d.body, d.attempts, d.failing_since, d.position, d.next_attempt_at,
    array_remove(ARRAY[s.secret,
        CASE WHEN s.previous_until > now() THEN s.previous_secret END], NULL)
"""

_ADMIN_EMAILS = """
SELECT email FROM identity_accounts
WHERE tenant_id = %s AND status = 'active' AND 'tenant_admin' = ANY(roles)
"""

_MAX_ERROR = 500


@dataclass(frozen=True)
class DueDelivery:
    """A claimed delivery, with what sending it needs."""

    delivery_id: UUID
    subscription_id: UUID
    tenant_id: str
    url: str
    event_id: str
    body: str
    attempt: int
    failing_since: datetime | None
    position: int
    leased_until: datetime
    """The claim's lease: an outcome is recorded only while it still holds
    (a redeliver or replay meanwhile makes the delivery due again)."""
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class AttemptOutcome:
    """How one attempt of a claimed delivery went, to be recorded."""

    due: DueDelivery
    started_at: datetime
    latency_ms: int
    status_code: int | None
    error: str | None
    retry_in_seconds: float | None
    """When to try again; ``None``: delivered."""


@dataclass(frozen=True)
class Matcher:
    """A subscription as the fan-out matches events against it."""

    subscription_id: UUID
    event_types: frozenset[str]
    organization_ids: frozenset[str] | None
    start_position: int

    def wants(self, event_type: str, position: int, organization: str | None) -> bool:
        """Whether this subscription is owed the event."""
        if position <= self.start_position:
            return False
        if self.event_types and event_type not in self.event_types:
            return False
        return self.organization_ids is None or organization in self.organization_ids


@dataclass(frozen=True)
class Owed:
    """An event to enqueue: its identity, body and organization."""

    tenant_id: str
    event_id: str
    event_type: str
    aggregate_id: str
    position: int
    organization_id: str | None
    body: str


def enqueue(conn: Connection, events: Sequence[Owed]) -> int:
    """Write the deliveries ``events`` owe, in the caller's transaction;
    return how many rows were new."""
    tenants = sorted({e.tenant_id for e in events})
    if not tenants:
        return 0
    matchers: dict[str, list[Matcher]] = {}
    for sid, tenant, types, orgs, start in conn.execute(
        "SELECT subscription_id, tenant_id, event_types, organization_ids,"
        " start_position FROM webhook_subscriptions WHERE tenant_id = ANY(%s)",
        (tenants,),
    ):
        matchers.setdefault(tenant, []).append(
            Matcher(
                sid,
                frozenset(types),
                None if orgs is None else frozenset(str(o) for o in orgs),
                int(start),
            )
        )
    owed = [
        (m.subscription_id, e)
        for e in events
        for m in matchers.get(e.tenant_id, ())
        if m.wants(e.event_type, e.position, e.organization_id)
    ]
    if not owed:
        return 0
    lock_subscriptions(conn, {sid for sid, _ in owed}, exclusive=False)
    parked = parked_on_arrival(
        conn, [(sid, e.event_id, e.aggregate_id, e.position) for sid, e in owed]
    )
    rows = [
        (
            uuid.uuid4(),
            sid,
            e.tenant_id,
            e.event_id,
            e.event_type,
            e.aggregate_id,
            e.position,
            e.body,
            park,
        )
        for (sid, e), park in zip(owed, parked, strict=True)
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO webhook_deliveries (delivery_id, subscription_id, tenant_id,"
            " event_id, event_type, aggregate_id, position, body, state, parked)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'pending', %s)"
            " ON CONFLICT (subscription_id, event_id) DO NOTHING",
            rows,
        )
    return len(rows)


def _subscription(row: Sequence[Any]) -> Subscription:
    orgs = row[4]
    return Subscription(
        subscription_id=row[0],
        tenant_id=row[1],
        url=row[2],
        event_types=tuple(row[3]),
        organization_ids=None if orgs is None else tuple(orgs),
        description=row[5],
        state=row[6],
        paused_reason=row[7],
        created_at=row[8],
        updated_at=row[9],
        previous_secret_until=row[10],
    )


class PostgresWebhooks:
    """Subscriptions (per tenant) and the delivery queue.

    Args:
        database: The pool.
        events_table: The event store's table (a new subscription is owed
            the events after its head).
    """

    def __init__(self, database: Database, events_table: str) -> None:
        self._db = database
        self._events = events_table

    def add(
        self,
        tenant_id: str,
        subscription_id: UUID,
        cmd: Subscribe,
        secret: str,
        by: str,
    ) -> Subscription:
        orgs = None if cmd.organization_ids is None else list(cmd.organization_ids)
        query = sql.SQL(
            "INSERT INTO webhook_subscriptions (subscription_id, tenant_id, url,"  # noqa: S608
            " event_types, organization_ids, description, secret, start_position,"
            " state, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s,"
            " (SELECT COALESCE(max(notification_id), 0) FROM {}), 'active', %s)"
            " RETURNING " + _COLUMNS
        ).format(sql.Identifier(self._events))
        params = (
            subscription_id,
            tenant_id,
            cmd.url,
            sorted(set(cmd.event_types)),
            orgs,
            cmd.description,
            secret,
            by,
        )
        with self._db.connection() as conn:
            row = conn.execute(query, params).fetchone()
        assert row is not None
        return _subscription(row)

    def get(self, tenant_id: str, subscription_id: UUID) -> Subscription | None:
        with self._db.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM webhook_subscriptions"  # noqa: S608
                " WHERE tenant_id = %s AND subscription_id = %s",
                (tenant_id, subscription_id),
            ).fetchone()
        return None if row is None else _subscription(row)

    def page(
        self, tenant_id: str, after: UUID | None, limit: int
    ) -> tuple[list[Subscription], UUID | None]:
        with self._db.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM webhook_subscriptions s"  # noqa: S608
                " WHERE tenant_id = %(t)s AND (%(after)s::uuid IS NULL OR"
                " (created_at, subscription_id) < (SELECT created_at, subscription_id"
                "  FROM webhook_subscriptions WHERE subscription_id = %(after)s))"
                " ORDER BY created_at DESC, subscription_id DESC LIMIT %(n)s",
                {"t": tenant_id, "after": after, "n": limit + 1},
            ).fetchall()
        items = [_subscription(r) for r in rows[:limit]]
        more = len(rows) > limit
        return items, (items[-1].subscription_id if more and items else None)

    def set_state(
        self, tenant_id: str, subscription_id: UUID, state: str, reason: str | None
    ) -> Subscription | None:
        with self._db.connection() as conn, conn.transaction():
            row = conn.execute(
                "UPDATE webhook_subscriptions SET state = %s, paused_reason = %s,"  # noqa: S608
                " updated_at = now() WHERE tenant_id = %s AND subscription_id = %s"
                f" RETURNING {_COLUMNS}",
                (state, reason, tenant_id, subscription_id),
            ).fetchone()
            if row is not None and state == "active":
                conn.execute(
                    "UPDATE webhook_deliveries SET failing_since = NULL,"
                    " next_attempt_at = now() WHERE subscription_id = %s"
                    " AND state = 'pending' AND next_attempt_at > now()",
                    (subscription_id,),
                )
            if row is not None:
                repark_subscription(conn, subscription_id)
        return None if row is None else _subscription(row)

    def rotate(
        self, tenant_id: str, subscription_id: UUID, secret: str, grace_seconds: float
    ) -> Subscription | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "UPDATE webhook_subscriptions SET previous_secret = secret,"  # noqa: S608
                " previous_until = now() + make_interval(secs => %s),"
                " secret = %s, updated_at = now()"
                " WHERE tenant_id = %s AND subscription_id = %s"
                f" RETURNING {_COLUMNS}",
                (grace_seconds, secret, tenant_id, subscription_id),
            ).fetchone()
        return None if row is None else _subscription(row)

    def delete(self, tenant_id: str, subscription_id: UUID) -> bool:
        with self._db.connection() as conn:
            cur = conn.execute(
                "DELETE FROM webhook_subscriptions"
                " WHERE tenant_id = %s AND subscription_id = %s",
                (tenant_id, subscription_id),
            )
            return cur.rowcount > 0

    def deliveries(
        self, tenant_id: str, subscription_id: UUID, before: int | None, limit: int
    ) -> list[Delivery]:
        with self._db.connection() as conn:
            rows = conn.execute(
                "SELECT d.delivery_id, d.event_id, d.event_type, d.aggregate_id,"
                " d.position, d.state, d.next_attempt_at, d.created_at,"
                " d.delivered_at, COALESCE(json_agg(json_build_array(a.attempt,"
                " a.started_at, a.latency_ms, a.status_code, a.error)"
                " ORDER BY a.attempt) FILTER (WHERE a.attempt IS NOT NULL), '[]')"
                " FROM webhook_deliveries d"
                " LEFT JOIN webhook_attempts a USING (delivery_id)"
                " WHERE d.tenant_id = %s AND d.subscription_id = %s"
                " AND (%s::bigint IS NULL OR d.position < %s)"
                " GROUP BY d.delivery_id ORDER BY d.position DESC, d.created_at DESC"
                " LIMIT %s",
                (tenant_id, subscription_id, before, before, limit),
            ).fetchall()
        return [
            Delivery(
                delivery_id=r[0],
                event_id=r[1],
                event_type=r[2],
                aggregate_id=r[3],
                position=r[4],
                state=r[5],
                next_attempt_at=r[6] if r[5] == "pending" else None,
                created_at=r[7],
                delivered_at=r[8],
                attempts=tuple(
                    Attempt(a[0], datetime.fromisoformat(a[1]), a[2], a[3], a[4])
                    for a in r[9]
                ),
            )
            for r in rows
        ]

    def redeliver(
        self, tenant_id: str, subscription_id: UUID, delivery_id: UUID
    ) -> bool:
        with self._db.connection() as conn, conn.transaction():
            lock_subscriptions(conn, [subscription_id], exclusive=True)
            cur = conn.execute(
                "UPDATE webhook_deliveries SET state = 'pending',"
                " next_attempt_at = now(), failing_since = NULL"
                " WHERE tenant_id = %s AND subscription_id = %s AND delivery_id = %s",
                (tenant_id, subscription_id, delivery_id),
            )
            if cur.rowcount > 0:
                repark_subscription(conn, subscription_id)
            return cur.rowcount > 0

    def replay(
        self, tenant_id: str, subscription_id: UUID, first: int, last: int | None
    ) -> int:
        with self._db.connection() as conn, conn.transaction():
            lock_subscriptions(conn, [subscription_id], exclusive=True)
            cur = conn.execute(
                "UPDATE webhook_deliveries SET state = 'pending',"
                " next_attempt_at = now(), failing_since = NULL"
                " WHERE tenant_id = %s AND subscription_id = %s AND position >= %s"
                " AND (%s::bigint IS NULL OR position <= %s)",
                (tenant_id, subscription_id, first, last, last),
            )
            if cur.rowcount > 0:
                repark_subscription(conn, subscription_id)
            return cur.rowcount

    # the dispatcher's side

    def settle(
        self,
        outcomes: Sequence[AttemptOutcome],
        limit: int,
        lease_seconds: float,
        give_up_after_seconds: float,
        release: Sequence[DueDelivery] = (),
    ) -> tuple[list[UUID], list[DueDelivery]]:
        """Record ``outcomes`` and claim up to ``limit`` due deliveries, in
        one transaction; claims in ``release`` that were not attempted are
        given back (due at once, their attempt not counted).

        The outcomes are written first, so a delivery just recorded frees
        the next of its aggregate for this very claim. Each outcome is
        written only while its claim's lease still holds. The transaction
        commits without waiting for the WAL flush: a crash may forget the
        latest outcomes and claims, which sends those deliveries again (at
        least once), never loses one.

        Return the subscriptions paused now because a delivery's failures
        have lasted ``give_up_after_seconds``, and the claimed deliveries in
        position order.
        """
        with self._db.connection() as conn, conn.transaction():
            conn.execute("SET LOCAL synchronous_commit = off")
            lock_subscriptions(
                conn,
                {o.due.subscription_id for o in outcomes}
                | {d.subscription_id for d in release},
                exclusive=False,
            )
            lock_deliveries(
                conn,
                [o.due.delivery_id for o in outcomes]
                + [d.delivery_id for d in release],
            )
            paused = _record(conn, outcomes, give_up_after_seconds)
            unpark_heads(
                conn,
                [o.due.delivery_id for o in outcomes if o.retry_in_seconds is None],
            )
            if release:
                conn.execute(
                    _RELEASE,
                    (
                        [d.delivery_id for d in release],
                        [d.leased_until for d in release],
                    ),
                )
            rows = (
                conn.execute(
                    _CLAIM, {"limit": limit, "lease": lease_seconds}
                ).fetchall()
                if limit > 0
                else []
            )
        claimed = [
            DueDelivery(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], tuple(r[10])
            )
            for r in rows
        ]
        return paused, sorted(claimed, key=lambda d: d.position)


_RECORD_ATTEMPTS = """
INSERT INTO webhook_attempts
    (delivery_id, attempt, started_at, latency_ms, status_code, error)
SELECT * FROM unnest(%s::uuid[], %s::int[], %s::timestamptz[], %s::int[],
    %s::int[], %s::text[])
ON CONFLICT DO NOTHING
"""

_RECORD_DELIVERED = """
UPDATE webhook_deliveries d
SET state = 'delivered', delivered_at = now(), failing_since = NULL
FROM unnest(%s::uuid[], %s::timestamptz[]) AS o(delivery_id, leased_until)
WHERE d.delivery_id = o.delivery_id AND d.next_attempt_at = o.leased_until
"""

_RECORD_FAILED = """
UPDATE webhook_deliveries d
SET failing_since = COALESCE(d.failing_since, o.started_at),
    next_attempt_at = now() + make_interval(secs => o.retry_in)
FROM unnest(%s::uuid[], %s::timestamptz[], %s::timestamptz[], %s::float8[])
    AS o(delivery_id, leased_until, started_at, retry_in)
WHERE d.delivery_id = o.delivery_id AND d.state = 'pending'
  AND d.next_attempt_at = o.leased_until
RETURNING d.delivery_id, now() - d.failing_since >= make_interval(secs => %s)
"""


_RELEASE = """
UPDATE webhook_deliveries d
SET next_attempt_at = now(), attempts = d.attempts - 1
FROM unnest(%s::uuid[], %s::timestamptz[]) AS o(delivery_id, leased_until)
WHERE d.delivery_id = o.delivery_id AND d.state = 'pending'
  AND d.next_attempt_at = o.leased_until
"""


def _text(error: str | None) -> str | None:
    """An error as Postgres ``text`` holds it (no NUL), bounded."""
    return None if error is None else error.replace("\x00", "?")[:_MAX_ERROR]


def _record(
    conn: Connection, outcomes: Sequence[AttemptOutcome], window: float
) -> list[UUID]:
    """Write the attempts and their deliveries' new state; pause the
    subscriptions whose failures have lasted ``window``."""
    if not outcomes:
        return []
    conn.execute(
        _RECORD_ATTEMPTS,
        (
            [o.due.delivery_id for o in outcomes],
            [o.due.attempt for o in outcomes],
            [o.started_at for o in outcomes],
            [o.latency_ms for o in outcomes],
            [o.status_code for o in outcomes],
            [_text(o.error) for o in outcomes],
        ),
    )
    delivered = [o.due for o in outcomes if o.retry_in_seconds is None]
    if delivered:
        conn.execute(
            _RECORD_DELIVERED,
            ([d.delivery_id for d in delivered], [d.leased_until for d in delivered]),
        )
    failed = [o for o in outcomes if o.retry_in_seconds is not None]
    if not failed:
        return []
    given_up = {
        delivery_id
        for delivery_id, over in conn.execute(
            _RECORD_FAILED,
            (
                [o.due.delivery_id for o in failed],
                [o.due.leased_until for o in failed],
                [o.started_at for o in failed],
                [o.retry_in_seconds for o in failed],
                window,
            ),
        ).fetchall()
        if over
    }
    return [
        o.due.subscription_id
        for o in failed
        if o.due.delivery_id in given_up and _pause_failing(conn, o.due, window)
    ]


def _pause_failing(conn: Connection, due: DueDelivery, window: float) -> bool:
    """Pause the subscription and queue its tenant admins' e-mails."""
    hours = round(window / 3600, 2)
    reason = f"deliveries failed for {hours} h"
    paused = conn.execute(
        "UPDATE webhook_subscriptions SET state = 'paused', paused_reason = %s,"
        " updated_at = now() WHERE subscription_id = %s AND state = 'active'"
        " RETURNING url",
        (reason, due.subscription_id),
    ).fetchone()
    conn.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = now(), failing_since = NULL"
        " WHERE delivery_id = %s",
        (due.delivery_id,),
    )
    if paused is None:
        return False
    repark_subscription(conn, due.subscription_id)
    body = (
        f"The webhook subscription {due.subscription_id} (target {paused[0]}) was"
        f" paused: its deliveries failed for {hours} hours.\n\nNothing is lost:"
        " events keep being queued for it. Fix the receiver, then resume the"
        f" subscription (POST /webhook-subscriptions/{due.subscription_id}/resume)."
        "\n"
    )
    for (email,) in conn.execute(_ADMIN_EMAILS, (due.tenant_id,)).fetchall():
        conn.execute(
            "INSERT INTO notification_outbox (message_id, tenant_id, recipient,"
            " subject, body) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (
                uuid.uuid5(due.subscription_id, f"paused:{due.delivery_id}:{email}"),
                due.tenant_id,
                email,
                "AssureHub: a webhook subscription was paused",
                body,
            ),
        )
    return True
