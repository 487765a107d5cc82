-- The feed index's trigger (0040) looks up an aggregate's organization in
-- event_feed by aggregate_id. PL/pgSQL keeps a generic plan per session; one
-- made while event_feed was nearly empty scans the whole table, and a long
-- session (a pooled connection, a COPY of many events) then paid a scan of
-- the growing table on every insert. Inside the function sequential scans
-- are off, so its lookups always use event_feed_by_aggregate.
ALTER FUNCTION event_feed_record(bigint, uuid, text, bytea)
    SET enable_seqscan = off;
