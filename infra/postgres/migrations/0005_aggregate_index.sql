-- Command-side lookup: which audits and certificates an organization has for
-- a standard. Written in the same transaction as the aggregate's events.
CREATE TABLE aggregate_index (
    tenant_id        text NOT NULL,
    kind             text NOT NULL,
    organization_id  uuid NOT NULL,
    standard_name    text NOT NULL,
    aggregate_id     uuid NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, kind, organization_id, standard_name, aggregate_id)
);
