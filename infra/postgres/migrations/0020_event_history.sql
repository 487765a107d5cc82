-- The history of one aggregate and the tenant's trail read the event store
-- itself. Tenant, actor and time live in each event's JSON state (the
-- library's row has no column for them); these functions read them, and the
-- index makes one tenant's events, in position order, an index range.
-- Every insert parses its row's JSON once more to maintain the index.

-- A state Postgres cannot read as text (a \u0000 escape, bytes that are not
-- UTF-8) is still stored and indexed: its tenant is found by pattern, its
-- actor and time are unknown (NULL). (Not PARALLEL SAFE: an exception block
-- opens a subtransaction, which a parallel worker cannot.)

CREATE OR REPLACE FUNCTION assurehub_event_tenant(state bytea) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT
    AS $$
BEGIN
    RETURN convert_from(state, 'UTF8')::jsonb #>> '{meta,_data_,tenant_id}';
EXCEPTION WHEN others THEN
    RETURN substring(encode(state, 'escape') FROM '"tenant_id": ?"([^"\\]*)"');
END
$$;

CREATE OR REPLACE FUNCTION assurehub_event_actor(state bytea) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT
    AS $$
BEGIN
    RETURN convert_from(state, 'UTF8')::jsonb #>> '{meta,_data_,actor_id}';
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION assurehub_event_time(state bytea) RETURNS timestamptz
    LANGUAGE plpgsql STABLE STRICT
    AS $$
BEGIN
    RETURN (convert_from(state, 'UTF8')::jsonb #>> '{timestamp,_data_}')::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

CREATE INDEX IF NOT EXISTS assurehub_events_tenant_position
    ON assurehub_events (assurehub_event_tenant(state), notification_id);
