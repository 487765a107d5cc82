-- E-mails to send, written in the transaction of the events that call for
-- them (an invitation, a password reset) and sent afterwards by the
-- processors' outbox dispatcher (infra.postgres.outbox): at least once, each
-- message claimed by one dispatcher at a time (FOR UPDATE SKIP LOCKED).
-- A message is pending while sent_at IS NULL and next_attempt_at is set;
-- sent_at IS NULL with next_attempt_at NULL means delivery was given up.
CREATE TABLE notification_outbox (
    message_id       uuid PRIMARY KEY,
    tenant_id        text NOT NULL,
    recipient        text NOT NULL,
    subject          text NOT NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    next_attempt_at  timestamptz DEFAULT now()
);
CREATE INDEX notification_outbox_due
    ON notification_outbox (next_attempt_at) WHERE sent_at IS NULL;
