-- Notifications the processors queue in reaction to events and schedules.
-- Such a message names its kind, the event (or scheduled occurrence) that
-- caused it and the account it goes to; one message per occurrence and
-- account (the unique index), however often the cause is handled. Security
-- and identity messages written by commands leave these columns NULL.
ALTER TABLE notification_outbox
    ADD COLUMN kind text,
    ADD COLUMN occurrence text,
    ADD COLUMN account_id uuid,
    ADD COLUMN html_body text,
    ADD COLUMN unsubscribe_url text;
CREATE UNIQUE INDEX notification_outbox_occurrence
    ON notification_outbox (occurrence, account_id) WHERE occurrence IS NOT NULL;
CREATE INDEX notification_outbox_listing
    ON notification_outbox (tenant_id, created_at DESC);

-- Which kinds a person receives, and the tenant's defaults (account_id
-- NULL). No row: the kind is on. Security kinds are never stored here.
CREATE TABLE notification_preferences (
    tenant_id   text NOT NULL,
    account_id  uuid,
    kind        text NOT NULL,
    enabled     boolean NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX notification_preferences_key
    ON notification_preferences (tenant_id, coalesce(account_id::text, ''), kind);

-- The language a person reads e-mails in (absent: English).
CREATE TABLE account_languages (
    tenant_id   text NOT NULL,
    account_id  uuid NOT NULL,
    language    text NOT NULL,
    PRIMARY KEY (tenant_id, account_id)
);
