-- Per-person data keys that seal the personal fields of events (see
-- infra.erasure). Erasing a person sets data_key NULL and erased_at: the
-- tombstone keeps the key from being made again. Keys never enter events,
-- snapshots or Kafka.
CREATE TABLE person_keys (
    tenant_id   text NOT NULL,
    person_id   uuid NOT NULL,
    data_key    bytea CHECK (data_key IS NULL OR length(data_key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz,
    PRIMARY KEY (tenant_id, person_id),
    CHECK ((data_key IS NULL) = (erased_at IS NOT NULL))
);
