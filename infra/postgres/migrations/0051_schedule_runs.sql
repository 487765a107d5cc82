-- The scheduler's record: one row per job, tenant and period (the tenant's
-- calendar day). Inserting the row claims the run, so several processor
-- instances run each job once per tenant and day; a run whose instance died
-- (still 'running' past its lease) may be taken over, a failed one retried.
CREATE TABLE schedule_runs (
    job          text NOT NULL,
    tenant_id    text NOT NULL,
    period       date NOT NULL,
    status       text NOT NULL,
    owner        text NOT NULL,
    attempts     integer NOT NULL DEFAULT 1,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    outcome      text,
    PRIMARY KEY (job, tenant_id, period)
);
CREATE INDEX schedule_runs_latest ON schedule_runs (job, tenant_id, period DESC);
