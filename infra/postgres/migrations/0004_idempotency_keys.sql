-- Answers of commands sent with an Idempotency-Key, written in the same
-- transaction as the command's events. Kept at least 24 h (no purge yet).
CREATE TABLE idempotency_keys (
    tenant_id     text NOT NULL,
    key           text NOT NULL,
    fingerprint   text NOT NULL,
    aggregate_id  uuid NOT NULL,
    version       integer NOT NULL,
    position      bigint,
    outcome       jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, key)
);
