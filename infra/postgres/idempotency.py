"""Housekeeping of recorded Idempotency-Key answers.

Answers are kept at least ``retention`` (24 hours or more, as the API
promises); older ones are deleted in small batches so a purge never holds
long locks on the table commands write to.
"""

from __future__ import annotations

from datetime import timedelta

from infra.postgres.pool import Database

_PURGE = (
    "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY("
    " SELECT ctid FROM idempotency_keys WHERE created_at < now() - %s LIMIT %s))"
)


def purge_idempotency_keys(
    database: Database, retention: timedelta, batch: int = 5_000
) -> int:
    """Delete answers recorded more than ``retention`` ago; return how many."""
    if retention < timedelta(hours=24):
        raise ValueError("idempotency answers are kept at least 24 hours")
    purged = 0
    with database.connection() as conn:
        while True:
            deleted = conn.execute(_PURGE, (retention, batch)).rowcount
            purged += deleted
            if deleted < batch:
                return purged
