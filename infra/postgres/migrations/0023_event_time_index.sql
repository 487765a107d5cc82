-- As it was at a time: the version of one aggregate in force at a moment is
-- one backward probe of this index (its newest event recorded at or before
-- the moment), instead of a scan of the aggregate's events.
--
-- The time is the event's own timestamp (as assurehub_event_time reads it),
-- taken only when it carries its UTC offset: then the text means the same
-- instant whatever the session's TimeZone or DateStyle, so the function is
-- truly immutable and may be indexed. A state Postgres cannot read, or a time
-- without its offset, is not indexed under a time (NULL). Every insert parses
-- its row's JSON once more to maintain the index.

CREATE OR REPLACE FUNCTION assurehub_event_recorded(state bytea) RETURNS timestamptz
    LANGUAGE plpgsql IMMUTABLE STRICT
    AS $$
DECLARE
    moment text;
BEGIN
    moment := convert_from(state, 'UTF8')::jsonb #>> '{timestamp,_data_}';
    IF moment !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d:\d\d$' THEN
        RETURN NULL;
    END IF;
    RETURN moment::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

CREATE INDEX IF NOT EXISTS assurehub_events_originator_recorded
    ON assurehub_events (originator_id, assurehub_event_recorded(state), originator_version);
