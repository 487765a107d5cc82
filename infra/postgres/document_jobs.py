"""The document processor's jobs in Postgres (``rm_document_jobs.jobs``).

The ``document_jobs`` projection adds and removes the rows; this module
hands them out. :meth:`PostgresDocumentJobs.claim` locks the oldest due row
with ``FOR UPDATE SKIP LOCKED`` and, in the same transaction, counts the
attempt and pushes ``due_at`` one lease ahead: two processors never work on
the same job at once, and a processor that dies mid-job leaves it to be
claimed again once the lease has passed. A job that failed for an
unexpected reason is due again after ``retry_base_seconds * 2**(attempts-1)``
(at most ``retry_max_seconds``); it is never dropped.
"""

from __future__ import annotations

from psycopg import sql

from infra.postgres.pool import Database
from infra.postgres.rows import qualified
from projections.document_jobs import JOBS, DocumentJob, DocumentJobsProjection, JobKind

_TABLE = qualified(DocumentJobsProjection.name, JOBS.name)
_KEY = sql.SQL("tenant_id = %(tenant)s AND kind = %(kind)s AND subject_id = %(id)s")

_CLAIM = sql.SQL("""
WITH due AS (
    SELECT tenant_id, kind, subject_id FROM {jobs}
    WHERE due_at IS NULL OR due_at <= now()
    ORDER BY position
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE {jobs} j
SET attempts = j.attempts + 1, due_at = now() + make_interval(secs => %(lease)s)
FROM due
WHERE (j.tenant_id, j.kind, j.subject_id) = (due.tenant_id, due.kind, due.subject_id)
RETURNING j.tenant_id, j.kind, j.subject_id, j.subject_version, j.event_id,
    j.correlation_id, j.attempts
""").format(jobs=_TABLE)

_FINISH = sql.SQL("DELETE FROM {} WHERE {}").format(_TABLE, _KEY)

_RETRY = sql.SQL("""
UPDATE {} SET last_error = %(error)s,
    due_at = now() + make_interval(
        secs => least(
            %(base)s * power(2, least(greatest(attempts, 1) - 1, 30)), %(cap)s))
WHERE {}
""").format(_TABLE, _KEY)

_MAX_ERROR_CHARS = 2000


class PostgresDocumentJobs:
    """Claims document jobs and records how they went.

    Args:
        database: The pool.
        lease_seconds: How long a claimed job is not handed out again (longer
            than rendering the largest document takes).
        retry_base_seconds: Wait after the first failed attempt; doubles.
        retry_max_seconds: The longest wait between attempts.
    """

    def __init__(
        self,
        database: Database,
        lease_seconds: float = 300.0,
        retry_base_seconds: float = 5.0,
        retry_max_seconds: float = 900.0,
    ) -> None:
        self._db = database
        self._lease = lease_seconds
        self._base = retry_base_seconds
        self._cap = retry_max_seconds

    def claim(self) -> DocumentJob | None:
        """The oldest due job, now claimed by the caller for one lease."""
        with self._db.connection() as conn, conn.transaction():
            row = conn.execute(_CLAIM, {"lease": self._lease}).fetchone()
        if row is None:
            return None
        tenant, kind, subject, version, event_id, correlation, attempts = row
        return DocumentJob(
            tenant, JobKind(kind), subject, version, event_id, correlation, attempts
        )

    def finish(self, job: DocumentJob) -> None:
        """Drop ``job``: its effect is recorded (the projection would drop it
        too once the effect's event arrives)."""
        with self._db.connection() as conn:
            conn.execute(_FINISH, _key(job))

    def retry_later(self, job: DocumentJob, error: str) -> None:
        """Record a failed attempt; the job is due again after a backoff."""
        params = {
            **_key(job),
            "error": error[:_MAX_ERROR_CHARS],
            "base": self._base,
            "cap": self._cap,
        }
        with self._db.connection() as conn:
            conn.execute(_RETRY, params)


def _key(job: DocumentJob) -> dict[str, object]:
    return {"tenant": job.tenant_id, "kind": job.kind.value, "id": job.subject_id}
