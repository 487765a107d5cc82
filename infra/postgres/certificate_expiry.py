"""Postgres read side of the certificate expiry list (``rm_certificate_expiry``).

The projection writes it through :class:`infra.postgres.rows.PostgresRows`.
"""

from __future__ import annotations

from datetime import date

from psycopg import sql

from infra.postgres.pool import Database
from infra.postgres.rows import qualified
from projections.certificate_expiry import (
    DUE,
    CertificateExpiryProjection,
    DueCertificate,
)

_DUE = sql.SQL(
    "SELECT tenant_id, certificate_id, expiry_date FROM {} WHERE expiry_date <= %s"
    " ORDER BY expiry_date, certificate_id LIMIT %s"
).format(qualified(CertificateExpiryProjection.name, DUE.name))


class PostgresDueCertificates:
    """Read side: certificates whose expiry date has come, across tenants
    (the processor acts for each certificate's own tenant)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def due(self, today: date, limit: int = 500) -> list[DueCertificate]:
        with self._db.connection() as conn:
            rows = conn.execute(_DUE, (today, limit)).fetchall()
        return [DueCertificate(r[0], r[1], r[2]) for r in rows]
