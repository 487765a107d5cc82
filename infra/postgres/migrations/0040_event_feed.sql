-- The HTTP event feed's index of the event store: per stored event, its
-- tenant and the client organization it concerns. A trigger writes the row in
-- the events' own insert transaction, under the store's EXCLUSIVE table lock,
-- so a row exists exactly when its event does and rows commit in position
-- order, like the events.
--
-- The organization is the aggregate's own id for an organization's events,
-- else the event's organization_id field, else the organization of the audit
-- its audit_id names, else the one an earlier event of the same aggregate
-- had; events of no organization (templates, settings, accounts) have none.
-- The state is read as json (not jsonb) so that any text the store holds
-- can be indexed.
-- Writers wait while the existing events are indexed and the trigger added.
LOCK TABLE assurehub_events IN EXCLUSIVE MODE;

CREATE TABLE event_feed (
    position         bigint PRIMARY KEY,
    tenant_id        text NOT NULL,
    aggregate_id     uuid NOT NULL,
    organization_id  uuid
);
CREATE INDEX event_feed_by_tenant ON event_feed (tenant_id, position);
CREATE INDEX event_feed_by_aggregate ON event_feed (aggregate_id)
    WHERE organization_id IS NOT NULL;

CREATE FUNCTION event_feed_uuid(value json) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE json_typeof(value)
        WHEN 'object' THEN (value ->> '_data_')::uuid
        WHEN 'string' THEN (value #>> '{}')::uuid
    END
$$;

CREATE FUNCTION event_feed_record(
    event_position bigint, event_aggregate uuid, event_topic text, event_state bytea
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    state json;
    tenant text;
    organization uuid;
    named_audit uuid;
BEGIN
    BEGIN
        state := convert_from(event_state, 'UTF8')::json;
        tenant := state -> 'meta' -> '_data_' ->> 'tenant_id';
        organization := event_feed_uuid(state -> 'organization_id');
        named_audit := event_feed_uuid(state -> 'audit_id');
    EXCEPTION WHEN others THEN
        -- A state Postgres cannot read as text (a \u0000 escape, bytes that
        -- are not UTF-8) is still stored: its tenant is found by pattern.
        tenant := substring(
            encode(event_state, 'escape') FROM '"tenant_id": ?"([^"\\]*)"'
        );
    END;
    IF event_topic LIKE 'domain.organization:%' THEN
        organization := event_aggregate;
    END IF;
    IF organization IS NULL AND named_audit IS NOT NULL THEN
        SELECT f.organization_id INTO organization FROM event_feed f
         WHERE f.aggregate_id = named_audit AND f.organization_id IS NOT NULL
         LIMIT 1;
    END IF;
    IF organization IS NULL THEN
        SELECT f.organization_id INTO organization FROM event_feed f
         WHERE f.aggregate_id = event_aggregate AND f.organization_id IS NOT NULL
         LIMIT 1;
    END IF;
    INSERT INTO event_feed (position, tenant_id, aggregate_id, organization_id)
    VALUES (event_position, COALESCE(tenant, ''), event_aggregate, organization);
END
$$;

CREATE FUNCTION event_feed_index() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM event_feed_record(
        NEW.notification_id, NEW.originator_id, NEW.topic, NEW.state
    );
    RETURN NULL;
END
$$;

DO $$
DECLARE
    e record;
BEGIN
    FOR e IN
        SELECT notification_id, originator_id, topic, state
          FROM assurehub_events ORDER BY notification_id
    LOOP
        PERFORM event_feed_record(e.notification_id, e.originator_id, e.topic, e.state);
    END LOOP;
END
$$;

CREATE TRIGGER event_feed_index AFTER INSERT ON assurehub_events
    FOR EACH ROW EXECUTE FUNCTION event_feed_index();
