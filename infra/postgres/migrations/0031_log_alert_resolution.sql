-- The segment an alert's verification covered, when its security event
-- (LogAlert.MismatchDetected, in the alert's tenant's log) was appended, and
-- an operator's resolution of the alert. Open alerts raised before this
-- migration get their security event at the watcher's next round; resolved
-- ones none.
ALTER TABLE log_alerts
    ADD COLUMN segment_from      bigint NOT NULL DEFAULT 1,
    ADD COLUMN segment_to        bigint,
    ADD COLUMN event_recorded_at timestamptz,
    ADD COLUMN resolved_by       text,
    ADD COLUMN resolution        text;

CREATE INDEX log_alerts_unrecorded ON log_alerts (id)
    WHERE event_recorded_at IS NULL AND resolved_at IS NULL AND tenant_id <> '';
