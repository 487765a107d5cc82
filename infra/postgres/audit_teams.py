"""Which audits name an actor on their team (the audits read model).

An account whose only staff role is ``auditor`` sees and works on these
audits only. The read model lags the commands by the projection's delay: an
auditor put on a team gains the audit once the audits read model has the
assignment (usually within milliseconds).
"""

from __future__ import annotations

from uuid import UUID

from psycopg import sql

from infra.postgres.pool import Database
from infra.postgres.rows import qualified

_TEAM = sql.SQL("SELECT id FROM {} WHERE tenant_id = %s AND %s = ANY(team)").format(
    qualified("audits", "audits")
)


class PostgresAuditTeams:
    """Reads audit team membership from ``rm_audits.audits``."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def audits_of(self, key: tuple[str, str]) -> frozenset[UUID]:
        """Ids of the tenant's audits whose current team includes the actor
        (``key`` is ``(tenant_id, actor_id)``)."""
        tenant_id, actor_id = key
        with self._db.connection() as conn:
            rows = conn.execute(_TEAM, (tenant_id, actor_id)).fetchall()
        return frozenset(row[0] for row in rows)
