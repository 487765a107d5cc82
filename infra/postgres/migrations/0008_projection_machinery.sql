-- Table projections keep their tables in a schema of their own, rm_<name>,
-- created by `assurehub migrate` (or a rebuild) from the projection's
-- declared tables. This records the shape each schema was built with.
CREATE TABLE projection_shapes (
    projection   text PRIMARY KEY,
    fingerprint  text NOT NULL,
    built_up_to  bigint NOT NULL DEFAULT 0,
    built_at     timestamptz NOT NULL DEFAULT now()
);

-- Events a projection could not apply. 'parked': skipped (tracking moved on),
-- kept here until `assurehub projections replay` applies them. 'halted': the
-- runner stops at it (tracking did not move) until it applies.
CREATE TABLE projection_dead_letters (
    projection    text NOT NULL,
    event_id      text NOT NULL,
    state         text NOT NULL CHECK (state IN ('parked', 'halted')),
    position      bigint NOT NULL,
    event_type    text NOT NULL,
    subject       text NOT NULL,
    tenant_id     text NOT NULL,
    topic         text,
    partition     integer,
    kafka_offset  bigint,
    envelope      jsonb NOT NULL,
    error         text NOT NULL,
    traceback     text NOT NULL,
    attempts      integer NOT NULL DEFAULT 1,
    parked_at     timestamptz NOT NULL DEFAULT now(),
    failed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, event_id)
);
CREATE INDEX projection_dead_letters_by_subject
    ON projection_dead_letters (projection, subject, position);

-- The organizations and certificate expiry read models move to rm_organizations
-- and rm_certificate_expiry (schemas). Their old tables go; `assurehub migrate`
-- then builds the new schemas from the event store (see README, Projections).
DROP TABLE rm_organization_sites;
DROP TABLE rm_organizations;
DROP TABLE rm_certificate_expiry;
DELETE FROM projection_tracking
    WHERE projection IN ('organizations', 'certificate_expiry');
