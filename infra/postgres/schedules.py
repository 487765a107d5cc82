"""The scheduler's runs and the rows its jobs look at, in Postgres.

:meth:`PostgresSchedules.claim` inserts the ``schedule_runs`` row of a job,
tenant and period, or takes over one whose instance died (still
``running`` past the lease) or failed; whoever's statement changed the row
runs the job, everyone else skips it. The row's primary key makes that
exactly one instance per job, tenant and period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import dict_row

from domain.audit_values import AuditStatus
from domain.surveillance import SurveillanceAudit
from infra.postgres.pool import Database
from infra.postgres.rows import qualified

_CLAIM = """
INSERT INTO schedule_runs AS r (job, tenant_id, period, status, owner)
VALUES (%(job)s, %(tenant)s, %(period)s, 'running', %(owner)s)
ON CONFLICT (job, tenant_id, period) DO UPDATE
SET status = 'running', owner = excluded.owner, attempts = r.attempts + 1,
    started_at = now(), finished_at = NULL, outcome = NULL
WHERE r.status = 'failed'
   OR (r.status = 'running'
       AND r.started_at < now() - make_interval(secs => %(lease)s))
RETURNING r.attempts
"""

_FINISH = """
UPDATE schedule_runs SET status = %(status)s, finished_at = now(),
    outcome = %(outcome)s
WHERE job = %(job)s AND tenant_id = %(tenant)s AND period = %(period)s
  AND owner = %(owner)s
"""

_LATEST = """
SELECT DISTINCT ON (job, tenant_id) job, tenant_id, period, status, attempts,
    started_at, finished_at, outcome
FROM schedule_runs ORDER BY job, tenant_id, period DESC
"""

_TENANTS = sql.SQL("""
SELECT tenant_id FROM {certificates}
UNION SELECT tenant_id FROM {findings} WHERE action_due
ORDER BY 1
""").format(
    certificates=qualified("certificates", "certificates"),
    findings=qualified("audits", "findings"),
)

_DUE_ACTIONS = sql.SQL("""
SELECT id, audit_id, due_date FROM {}
WHERE tenant_id = %(tenant)s AND action_due AND due_date <= %(until)s
ORDER BY due_date, id
""").format(qualified("audits", "findings"))

_EXPIRING = sql.SQL("""
SELECT id, expiry_date FROM {}
WHERE tenant_id = %(tenant)s AND status IN ('active', 'suspended')
  AND expiry_date BETWEEN %(today)s AND %(until)s
ORDER BY expiry_date, id
""").format(qualified("certificates", "certificates"))

_ACTIVE = sql.SQL("""
SELECT id, organization_id, standard_name, decision_date, effective_date,
    expiry_date
FROM {}
WHERE tenant_id = %(tenant)s AND status = 'active' AND expiry_date > %(today)s
ORDER BY expiry_date, id
""").format(qualified("certificates", "certificates"))

_SURVEILLANCE_AUDITS = sql.SQL("""
SELECT organization_id, standard_name, status, planned_start FROM {}
WHERE tenant_id = %(tenant)s AND audit_type = 'surveillance'
  AND status <> 'cancelled'
  AND (status NOT IN ('decided', 'closed') OR planned_start >= %(since)s)
""").format(qualified("audits", "audits"))


@dataclass(frozen=True)
class RunRecord:
    """The latest run of one job for one tenant."""

    job: str
    tenant_id: str
    period: date
    status: str
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None


class PostgresSchedules:
    """Claims and records scheduled runs; reads what the jobs act on.

    Args:
        database: The pool.
        lease_seconds: How long a run may take before another instance may
            take it over (its instance is presumed dead).
    """

    def __init__(self, database: Database, lease_seconds: float = 3600.0) -> None:
        self._db = database
        self._lease = lease_seconds

    def claim(self, job: str, tenant_id: str, period: date, owner: str) -> bool:
        """Whether ``owner`` now runs ``job`` for ``tenant_id`` and ``period``."""
        params = {
            "job": job,
            "tenant": tenant_id,
            "period": period,
            "owner": owner,
            "lease": self._lease,
        }
        with self._db.connection() as conn:
            return conn.execute(_CLAIM, params).fetchone() is not None

    def finish(
        self,
        job: str,
        tenant_id: str,
        period: date,
        owner: str,
        ok: bool,
        outcome: str,
    ) -> None:
        """Record how ``owner``'s run went."""
        params = {
            "job": job,
            "tenant": tenant_id,
            "period": period,
            "owner": owner,
            "status": "succeeded" if ok else "failed",
            "outcome": outcome[:2000],
        }
        with self._db.connection() as conn:
            conn.execute(_FINISH, params)

    def latest(self) -> list[RunRecord]:
        """The latest run of every job and tenant."""
        with self._db.connection() as conn:
            return [RunRecord(*row) for row in conn.execute(_LATEST).fetchall()]

    def tenants(self) -> list[str]:
        """Tenants with certificates or corrective actions to watch."""
        with self._db.connection() as conn:
            return [str(r[0]) for r in conn.execute(_TENANTS).fetchall()]

    def due_actions(self, tenant_id: str, until: date) -> list[dict[str, Any]]:
        """Corrective actions still to be done whose due date is ``until``
        or earlier."""
        return self._rows(_DUE_ACTIONS, {"tenant": tenant_id, "until": until})

    def expiring(
        self, tenant_id: str, today: date, until: date
    ) -> list[dict[str, Any]]:
        """Certificates in force expiring between ``today`` and ``until``."""
        params = {"tenant": tenant_id, "today": today, "until": until}
        return self._rows(_EXPIRING, params)

    def active_certificates(self, tenant_id: str, today: date) -> list[dict[str, Any]]:
        """Active certificates that have not reached their expiry date."""
        return self._rows(_ACTIVE, {"tenant": tenant_id, "today": today})

    def surveillance_audits(
        self, tenant_id: str, since: date
    ) -> dict[tuple[UUID, str], list[SurveillanceAudit]]:
        """Surveillance audits per organization and standard name: the open
        ones, and the decided or closed ones planned to start on ``since`` or
        later (cancelled ones never)."""
        found: dict[tuple[UUID, str], list[SurveillanceAudit]] = {}
        params = {"tenant": tenant_id, "since": since}
        for row in self._rows(_SURVEILLANCE_AUDITS, params):
            audit = SurveillanceAudit(AuditStatus(row["status"]), row["planned_start"])
            key = (row["organization_id"], row["standard_name"])
            found.setdefault(key, []).append(audit)
        return found

    def _rows(
        self, query: sql.Composed, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        with (
            self._db.connection() as conn,
            conn.cursor(row_factory=dict_row) as cursor,
        ):
            return list(cursor.execute(query, params).fetchall())
