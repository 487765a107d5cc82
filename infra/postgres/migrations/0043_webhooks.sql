-- Webhook subscriptions of downstream systems and the deliveries owed to them
-- (infra.postgres.webhooks). A subscription is configuration holding a signing
-- secret, so it is a side table, not an aggregate: secrets never enter events.
-- Deliveries are written by the webhook fan-out consumer in the transaction of
-- its tracking position (projection_tracking, projection 'webhooks'), so each
-- event is owed to each matching subscription exactly once; the sender then
-- delivers at least once, per subscription and aggregate in position order.
CREATE TABLE webhook_subscriptions (
    subscription_id   uuid PRIMARY KEY,
    tenant_id         text NOT NULL,
    url               text NOT NULL,
    event_types       text[] NOT NULL,           -- empty: every type
    organization_ids  uuid[],                     -- NULL: every organization
    description       text NOT NULL DEFAULT '',
    secret            text NOT NULL,
    previous_secret   text,
    previous_until    timestamptz,
    start_position    bigint NOT NULL,              -- events after it are owed
    state             text NOT NULL CHECK (state IN ('active', 'paused')),
    paused_reason     text,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_tenant
    ON webhook_subscriptions (tenant_id, created_at DESC, subscription_id);

-- state: pending (next_attempt_at is when it is due; while an attempt runs it
-- is pushed one lease ahead) or delivered.
CREATE TABLE webhook_deliveries (
    delivery_id       uuid PRIMARY KEY,
    subscription_id   uuid NOT NULL
        REFERENCES webhook_subscriptions ON DELETE CASCADE,
    tenant_id         text NOT NULL,
    event_id          text NOT NULL,
    event_type        text NOT NULL,
    aggregate_id      text NOT NULL,
    position          bigint NOT NULL,
    body              text NOT NULL,
    state             text NOT NULL CHECK (state IN ('pending', 'delivered')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    failing_since     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    delivered_at      timestamptz,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due
    ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_order
    ON webhook_deliveries (subscription_id, aggregate_id, position)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_listing
    ON webhook_deliveries (subscription_id, position DESC);

CREATE TABLE webhook_attempts (
    delivery_id   uuid NOT NULL REFERENCES webhook_deliveries ON DELETE CASCADE,
    attempt       integer NOT NULL,
    started_at    timestamptz NOT NULL,
    latency_ms    integer NOT NULL,
    status_code   integer,
    error         text,
    PRIMARY KEY (delivery_id, attempt)
);
