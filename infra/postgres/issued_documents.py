"""Documents found by the SHA-256 of their file, across tenants.

``assurehub documents verify FILE`` asks which documents were issued as a
file it was given: an operator's question, so it reads every tenant's rows of
the documents read model (``rm_documents.documents``). No HTTP route uses it.
"""

from __future__ import annotations

from uuid import UUID

from psycopg import sql

from infra.postgres.pool import Database
from infra.postgres.rows import qualified
from projections.documents import DOCUMENTS_TABLE, DocumentProjection

_WITH_SHA256 = sql.SQL(
    "SELECT tenant_id, id FROM {} WHERE sha256 = %s ORDER BY requested_at, id"
).format(qualified(DocumentProjection.name, DOCUMENTS_TABLE.name))


class PostgresIssuedDocuments:
    """Looks documents up by the SHA-256 recorded for their file."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def with_sha256(self, sha256: str) -> list[tuple[str, UUID]]:
        """``(tenant id, document id)`` of every document issued as ``sha256``,
        oldest request first."""
        with self._db.connection() as conn:
            rows = conn.execute(_WITH_SHA256, (sha256,)).fetchall()
        return [(str(tenant), UUID(str(document))) for tenant, document in rows]
