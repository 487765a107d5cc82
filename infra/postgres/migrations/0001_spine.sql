-- Relay: the last position published to Kafka and acknowledged, and per
-- partition the newest position it holds (answers "has a projection reached P").
CREATE TABLE relay_progress (
    topic       text PRIMARY KEY,
    position    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE relay_partition_heads (
    topic       text NOT NULL,
    partition   integer NOT NULL,
    position    bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);

-- Projections: per partition, the last applied position and Kafka offset,
-- written in the same transaction as the read-model change.
CREATE TABLE projection_tracking (
    projection   text NOT NULL,
    topic        text NOT NULL,
    partition    integer NOT NULL,
    position     bigint NOT NULL,
    kafka_offset bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, topic, partition)
);

CREATE TABLE rm_organizations (
    tenant_id      text NOT NULL,
    id             uuid NOT NULL,
    name           text NOT NULL,
    name_key       text COLLATE "C" NOT NULL,
    country        char(2) NOT NULL,
    sites          jsonb NOT NULL DEFAULT '[]'::jsonb,
    version        integer NOT NULL,
    position       bigint NOT NULL,
    registered_at  timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX rm_organizations_by_name ON rm_organizations (tenant_id, name_key, id);
CREATE INDEX rm_organizations_by_country ON rm_organizations (tenant_id, country, name_key, id);
