-- Identity, command side (not read models): accounts with their credentials,
-- one-time tokens, login sessions and API tokens. Rows change in the
-- transaction that appends the events causing them (infra.postgres.
-- identity_records), except the operational state the directory keeps on its
-- own (refresh rotation, pending TOTP enrollment, API token last use).
-- Secrets are stored only as digests or hashes, TOTP secrets encrypted.

CREATE TABLE identity_accounts (
    account_id        uuid PRIMARY KEY,
    tenant_id         text NOT NULL,
    email             text NOT NULL CHECK (email = lower(email)),
    name              text NOT NULL,
    status            text NOT NULL
                      CHECK (status IN ('invited', 'active', 'deactivated')),
    roles             text[] NOT NULL DEFAULT '{}',
    organization_ids  uuid[] NOT NULL DEFAULT '{}',
    mfa_enrolled      boolean NOT NULL DEFAULT false,
    password_hash     text,
    totp_secret       bytea,
    totp_last_step    bigint,
    totp_pending      bytea,
    recovery_hashes   text[] NOT NULL DEFAULT '{}',
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT identity_accounts_email_key UNIQUE (tenant_id, email)
);

CREATE TABLE identity_one_time_tokens (
    digest      text PRIMARY KEY,
    purpose     text NOT NULL,
    tenant_id   text NOT NULL,
    account_id  uuid NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_one_time_tokens_account_idx
    ON identity_one_time_tokens (account_id, purpose);

CREATE TABLE identity_sessions (
    session_id              uuid PRIMARY KEY,
    tenant_id               text NOT NULL,
    account_id              uuid NOT NULL,
    refresh_digest          text NOT NULL UNIQUE,
    created_at              timestamptz NOT NULL DEFAULT now(),
    expires_at              timestamptz NOT NULL,
    revoked_at              timestamptz,
    mfa_enrollment_pending  boolean NOT NULL DEFAULT false,
    last_rotated_at         timestamptz
);
CREATE INDEX identity_sessions_account_idx ON identity_sessions (account_id);

-- Refresh digests a session has rotated away from: presenting one is reuse.
CREATE TABLE identity_refresh_digests (
    digest      text PRIMARY KEY,
    session_id  uuid NOT NULL
                REFERENCES identity_sessions (session_id) ON DELETE CASCADE,
    rotated_at  timestamptz NOT NULL
);
CREATE INDEX identity_refresh_digests_session_idx
    ON identity_refresh_digests (session_id);

CREATE TABLE identity_api_tokens (
    token_id      uuid PRIMARY KEY,
    tenant_id     text NOT NULL,
    digest        text NOT NULL UNIQUE,
    name          text NOT NULL,
    prefix        text NOT NULL DEFAULT '',
    roles         text[] NOT NULL,
    scopes        text[] NOT NULL DEFAULT '{}',
    expires_at    timestamptz,
    revoked_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_used_at  timestamptz
);
CREATE INDEX identity_api_tokens_tenant_idx
    ON identity_api_tokens (tenant_id, created_at DESC);
