-- Answers older than the retention are purged by the processors' housekeeping.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
