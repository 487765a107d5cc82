-- The webhook sender's claim walks pending deliveries in the order it hands
-- them out (next_attempt_at, position) and stops at its limit, checking for
-- each only whether it is the oldest pending one of its subscription and
-- aggregate (webhook_deliveries_order); with next_attempt_at alone it had to
-- sort every due delivery on each claim.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due
    ON webhook_deliveries (next_attempt_at, position) WHERE state = 'pending';
