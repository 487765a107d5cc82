-- A projection that met a record it could neither apply nor park: its runner
-- consumes nothing (and commits no offset) while this row exists. Written in
-- a transaction of its own; `assurehub projections resume NAME` (or a rebuild
-- of NAME) deletes it.
CREATE TABLE projection_halts (
    projection    text PRIMARY KEY,
    reason        text NOT NULL,
    event_id      text,
    topic         text,
    partition     integer,
    kafka_offset  bigint,
    halted_at     timestamptz NOT NULL DEFAULT now()
);
