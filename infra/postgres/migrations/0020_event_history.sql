-- The history of one aggregate and the tenant's trail read the event store
-- itself. Tenant, actor and time live in each event's JSON state (the
-- library's row has no column for them); these functions read them, and the
-- index makes one tenant's events, in position order, an index range.
-- Every insert parses its row's JSON once more to maintain the index.

CREATE OR REPLACE FUNCTION assurehub_event_tenant(state bytea) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT convert_from(state, 'UTF8')::jsonb #>> '{meta,_data_,tenant_id}' $$;

CREATE OR REPLACE FUNCTION assurehub_event_actor(state bytea) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT convert_from(state, 'UTF8')::jsonb #>> '{meta,_data_,actor_id}' $$;

CREATE OR REPLACE FUNCTION assurehub_event_time(state bytea) RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
    AS $$ SELECT (convert_from(state, 'UTF8')::jsonb #>> '{timestamp,_data_}')::timestamptz $$;

CREATE INDEX IF NOT EXISTS assurehub_events_tenant_position
    ON assurehub_events (assurehub_event_tenant(state), notification_id);
