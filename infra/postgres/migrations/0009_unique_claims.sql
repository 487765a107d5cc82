-- Values only one aggregate of a tenant may hold (e.g. the audit a certificate
-- rests on), inserted in the same transaction as the aggregate's events: of two
-- concurrent commands claiming one, the second fails and writes nothing.
CREATE TABLE unique_claims (
    tenant_id     text NOT NULL,
    scope         text NOT NULL,
    key           text NOT NULL,
    aggregate_id  uuid NOT NULL,
    claimed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, scope, key)
);
