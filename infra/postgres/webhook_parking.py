"""Which pending webhook deliveries are parked (migration 0056).

A pending delivery is parked while the sender cannot send it: its
subscription is paused, or an earlier delivery of its subscription and
aggregate is not delivered yet. The claim walks only unparked rows (the due
index leaves parked ones out), so neither a paused subscription's backlog
nor a line of deliveries behind a failing one is walked by every claim; the
claim still checks both conditions itself, so a flag that is late costs a
walk, never the order.

A flag must never stay set once its cause is gone. Whoever changes the
cause or sets flags first locks the subscription's row with
:func:`lock_subscriptions` (in id order, before any delivery row): pause,
resume, redeliver and replay exclusively, so they take turns with everyone
else on that subscription and see what the previous one committed; the
sender's settle and the fan-out's enqueue share it, so they never wait for
each other there. Between those two, the fan-out share-locks the first
pending delivery of each (subscription, aggregate) it queues behind, and the
settle locks the deliveries it records in the same order
(:func:`lock_deliveries`): a delivery is never marked delivered while a new
one is being parked behind it, and after it is, the settle unparks the next.
Taking the subscription first everywhere also keeps row locks from crossing
(no deadlock between a replay and a batch of outcomes). The one crossing
left is rare: a settle pausing a subscription whose retry window has passed
while the fan-out queues for it; Postgres ends it by aborting one, which
runs again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from infra.errors import DatabaseContentionError
from infra.postgres.pool import Connection

_REPARK = """
UPDATE webhook_deliveries d SET parked = w.blocked
FROM (
    SELECT e.delivery_id, s.state <> 'active' OR EXISTS (
            SELECT 1 FROM webhook_deliveries f
            WHERE f.subscription_id = e.subscription_id
              AND f.aggregate_id = e.aggregate_id
              AND f.state <> 'delivered' AND f.position < e.position) AS blocked
    FROM webhook_deliveries e JOIN webhook_subscriptions s USING (subscription_id)
    WHERE e.state = 'pending' AND {rows}
) w
WHERE d.delivery_id = w.delivery_id AND d.parked <> w.blocked
"""


# the first pending delivery of each (subscription, aggregate) of the given
# deliveries (found on webhook_deliveries_order) has nothing before it: it is
# parked only while its subscription is paused
_UNPARK_HEADS = """
UPDATE webhook_deliveries d SET parked = false
FROM webhook_subscriptions s, (
    SELECT DISTINCT subscription_id, aggregate_id FROM webhook_deliveries
    WHERE delivery_id = ANY(%s)) p
CROSS JOIN LATERAL (
    SELECT f.delivery_id FROM webhook_deliveries f
    WHERE f.subscription_id = p.subscription_id
      AND f.aggregate_id = p.aggregate_id AND f.state <> 'delivered'
    ORDER BY f.position LIMIT 1) h
WHERE d.delivery_id = h.delivery_id AND d.parked
  AND s.subscription_id = d.subscription_id AND s.state = 'active'
"""

_SUBSCRIPTION = "e.subscription_id = %s"


def lock_subscriptions(
    conn: Connection, subscription_ids: Collection[UUID], exclusive: bool
) -> None:
    """Lock the subscriptions' rows in id order until the transaction ends:
    ``exclusive`` (``FOR NO KEY UPDATE``) to change what parks their
    deliveries, else ``FOR SHARE`` (enough to add deliveries)."""
    if not subscription_ids:
        return
    mode = "NO KEY UPDATE" if exclusive else "SHARE"
    conn.execute(
        "SELECT 1 FROM webhook_subscriptions WHERE subscription_id = ANY(%s)"  # noqa: S608
        f" ORDER BY subscription_id FOR {mode}",
        (sorted(subscription_ids),),
    )


def lock_deliveries(conn: Connection, delivery_ids: Collection[UUID]) -> None:
    """Lock these deliveries' rows for update in (subscription, aggregate,
    position) order, the order the fan-out share-locks the first pending
    delivery of each (subscription, aggregate) it queues behind."""
    if delivery_ids:
        conn.execute(
            "SELECT 1 FROM webhook_deliveries WHERE delivery_id = ANY(%s)"
            ' ORDER BY subscription_id, aggregate_id COLLATE "C", position'
            " FOR UPDATE",
            (list(delivery_ids),),
        )


def parked_on_arrival(
    conn: Connection, arriving: Sequence[tuple[UUID, str, str, int]]
) -> list[bool]:
    """Whether each delivery about to be queued (subscription, event,
    aggregate, position) is parked; deliveries already queued (a batch
    delivered again) park nothing. Deciding before the insert keeps parked
    rows out of the due index altogether (an update would leave an entry
    there until vacuum). Call it holding the subscriptions' locks."""
    sids = [a[0] for a in arriving]
    known = set(
        conn.execute(
            "SELECT subscription_id, event_id FROM webhook_deliveries"
            " WHERE (subscription_id, event_id) IN"
            " (SELECT * FROM unnest(%s::uuid[], %s::text[]))",
            (sids, [a[1] for a in arriving]),
        ).fetchall()
    )
    inactive = {
        sid
        for (sid,) in conn.execute(
            "SELECT subscription_id FROM webhook_subscriptions"
            " WHERE subscription_id = ANY(%s) AND state <> 'active'",
            (sorted(set(sids)),),
        )
    }
    first = _first_pending_held(conn, sorted({(a[0], a[2]) for a in arriving}))
    for sid, event_id, agg, pos in sorted(arriving, key=lambda a: a[3]):
        if (sid, event_id) not in known:
            first.setdefault((sid, agg), pos)
    return [
        sid in inactive or first[(sid, agg)] < pos
        if (sid, event_id) not in known
        else False
        for sid, event_id, agg, pos in arriving
    ]


def _first_pending_held(
    conn: Connection, pairs: list[tuple[UUID, str]]
) -> dict[tuple[UUID, str], int]:
    """The position of the first pending delivery of each (subscription,
    aggregate) that has one, each of those rows share-locked until the
    transaction ends, so none is delivered meanwhile (the sender's settle
    updates it only after this transaction, then sees what it queued).

    A head delivered while its lock was awaited is not the one locked;
    then the heads are locked again.
    """
    params = ([p[0] for p in pairs], [p[1] for p in pairs])
    for _ in range(_ATTEMPTS):
        rows = conn.execute(_LOCK_FIRST_PENDING, params).fetchall()
        if all(held == first for _, _, held, first in rows):
            return {
                (sid, agg): int(pos) for sid, agg, pos, _ in rows if pos is not None
            }
    raise DatabaseContentionError("deliveries kept being delivered while queuing")


_ATTEMPTS = 20

# Per (subscription, aggregate), in that order (the order in which the
# settle locks the deliveries it records: no deadlock between the two): the
# first pending delivery, share-locked, and the first as the statement's
# snapshot saw it; they differ when the one seen was delivered meanwhile.
_LOCK_FIRST_PENDING = """
SELECT p.sid, p.agg, h.position, (
    SELECT min(g.position) FROM webhook_deliveries g
    WHERE g.subscription_id = p.sid AND g.aggregate_id = p.agg
      AND g.state <> 'delivered')
FROM unnest(%s::uuid[], %s::text[]) AS p(sid, agg)
LEFT JOIN LATERAL (
    SELECT f.position FROM webhook_deliveries f
    WHERE f.subscription_id = p.sid AND f.aggregate_id = p.agg
      AND f.state <> 'delivered'
    ORDER BY f.position LIMIT 1 FOR SHARE OF f) h ON true
"""


def unpark_heads(conn: Connection, delivery_ids: Collection[UUID]) -> None:
    """Unpark the first pending delivery of each (subscription, aggregate)
    these deliveries belong to (they were just delivered), unless its
    subscription is paused."""
    if delivery_ids:
        conn.execute(_UNPARK_HEADS, (list(delivery_ids),))


def repark_subscription(conn: Connection, subscription_id: UUID) -> None:
    """Set the flags of every pending delivery of the subscription (it was
    paused or resumed, or deliveries were made pending again)."""
    conn.execute(_REPARK.format(rows=_SUBSCRIPTION), (subscription_id,))
