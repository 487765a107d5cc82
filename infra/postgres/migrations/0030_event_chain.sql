-- Tamper evidence: every event's link in its tenant's hash chain, written in
-- the appending transaction (infra/eventstore/chain.py; canonical form in
-- infra/eventstore/log_verifier.py), the signed checkpoints over chain heads,
-- the public keys that signed them, and alerts raised by the log watcher.

CREATE TABLE event_chain (
    position       bigint PRIMARY KEY,
    tenant_id      text NOT NULL,
    recorded_at    timestamptz NOT NULL,
    previous_hash  bytea NOT NULL,
    hash           bytea NOT NULL
);

CREATE INDEX event_chain_by_tenant ON event_chain (tenant_id, position);

CREATE TABLE log_signing_keys (
    key_id         text PRIMARY KEY,
    algorithm      text NOT NULL DEFAULT 'Ed25519',
    public_key     bytea NOT NULL,
    first_used_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE log_checkpoints (
    tenant_id  text NOT NULL,
    position   bigint NOT NULL,
    head       bytea NOT NULL,
    key_id     text NOT NULL REFERENCES log_signing_keys (key_id),
    signature  bytea NOT NULL,
    signed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, position)
);

CREATE TABLE log_alerts (
    id           bigserial PRIMARY KEY,
    tenant_id    text NOT NULL,
    position     bigint,
    problem      text NOT NULL,
    detail       text NOT NULL,
    detected_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz
);

CREATE INDEX log_alerts_open ON log_alerts (detected_at) WHERE resolved_at IS NULL;

-- Chains of the events already stored: the same canonical form as
-- infra.eventstore.log_verifier.event_hash, computed here in SQL.
CREATE FUNCTION pg_temp.chain_field(value bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE AS $$ SELECT int4send(length(value)) || value $$;

DO $$
DECLARE
    e record;
    body jsonb;
    tenant text;
    moment timestamptz;
    meta bytea;
    previous bytea;
    digest bytea;
BEGIN
    CREATE TEMP TABLE chain_heads (tenant_id text PRIMARY KEY, hash bytea NOT NULL)
        ON COMMIT DROP;
    FOR e IN
        SELECT notification_id, originator_id, originator_version, topic, state
        FROM assurehub_events ORDER BY notification_id
    LOOP
        body := convert_from(e.state, 'UTF8')::jsonb;
        tenant := coalesce(body #>> '{meta,_data_,tenant_id}', '');
        moment := (body #>> '{timestamp,_data_}')::timestamptz;
        SELECT coalesce(string_agg(
                   pg_temp.chain_field(convert_to(key, 'UTF8'))
                   || pg_temp.chain_field(convert_to(value, 'UTF8')),
                   ''::bytea ORDER BY convert_to(key, 'UTF8')), ''::bytea)
            INTO meta
            FROM jsonb_each_text(coalesce(body #> '{meta,_data_}', '{}'::jsonb));
        SELECT hash INTO previous FROM chain_heads WHERE tenant_id = tenant;
        previous := coalesce(previous, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
        digest := sha256(
            pg_temp.chain_field(convert_to('assurehub-event-log/1', 'UTF8'))
            || pg_temp.chain_field(previous)
            || pg_temp.chain_field(convert_to(e.notification_id::text, 'UTF8'))
            || pg_temp.chain_field(convert_to(tenant, 'UTF8'))
            || pg_temp.chain_field(convert_to(e.originator_id::text, 'UTF8'))
            || pg_temp.chain_field(convert_to(e.originator_version::text, 'UTF8'))
            || pg_temp.chain_field(convert_to(e.topic, 'UTF8'))
            || pg_temp.chain_field(convert_to(to_char(moment AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8'))
            || pg_temp.chain_field(e.state)
            || pg_temp.chain_field(meta));
        INSERT INTO event_chain (position, tenant_id, recorded_at, previous_hash, hash)
            VALUES (e.notification_id, tenant, moment, previous, digest);
        INSERT INTO chain_heads VALUES (tenant, digest)
            ON CONFLICT (tenant_id) DO UPDATE SET hash = EXCLUDED.hash;
    END LOOP;
END
$$;
