-- A pending delivery the sender cannot send yet is parked: its subscription is
-- paused, or an earlier delivery of its subscription and aggregate is not
-- delivered. The claim walks webhook_deliveries_due only, which holds no
-- parked row, so a paused subscription's backlog or a long line behind a
-- failing delivery costs a claim nothing. Parking keeps next_attempt_at (a
-- claim's lease and a retry's backoff hold as they are). Who parks or unparks
-- the rows of a subscription holds a lock on the subscription's row (and the
-- fan-out also on the earlier pending rows it parks behind); see
-- infra.postgres.webhook_parking.
ALTER TABLE webhook_deliveries ADD COLUMN parked boolean NOT NULL DEFAULT false;

UPDATE webhook_deliveries d SET parked = true
FROM (
    SELECT e.delivery_id,
        s.state <> 'active' OR e.position <> min(e.position)
            OVER (PARTITION BY e.subscription_id, e.aggregate_id) AS blocked
    FROM webhook_deliveries e JOIN webhook_subscriptions s USING (subscription_id)
    WHERE e.state = 'pending'
) w
WHERE d.delivery_id = w.delivery_id AND w.blocked;

DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due
    ON webhook_deliveries (next_attempt_at, position)
    WHERE state = 'pending' AND NOT parked;
