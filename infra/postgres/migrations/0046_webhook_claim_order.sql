-- The webhook sender's claim walks pending deliveries in the order it hands
-- them out (next_attempt_at, position) and stops at its limit, checking for
-- each only whether it is the oldest pending one of its subscription and
-- aggregate, on webhook_deliveries_order; with next_attempt_at alone it had
-- to sort every due delivery on each claim. The order index's predicate
-- (state <> 'delivered', the same rows as 'pending') is one the due index
-- cannot answer, so that check uses the order index whatever the table's
-- statistics say (a queue table is often far from its last ANALYZE).
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due
    ON webhook_deliveries (next_attempt_at, position) WHERE state = 'pending';
DROP INDEX webhook_deliveries_order;
CREATE INDEX webhook_deliveries_order
    ON webhook_deliveries (subscription_id, aggregate_id, position)
    WHERE state <> 'delivered';
