"""Postgres adapters of the certificate expiry list."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from infra.postgres.pool import Connection, Database
from projections.certificate_expiry import DueCertificate


class PostgresExpiryStore:
    """Write side, in the projection runner's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def track(self, tenant_id: str, certificate_id: UUID, expiry_date: date) -> None:
        self._conn.execute(
            "INSERT INTO rm_certificate_expiry (tenant_id, certificate_id, expiry_date)"
            " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (tenant_id, certificate_id, expiry_date),
        )

    def forget(self, tenant_id: str, certificate_id: UUID) -> None:
        self._conn.execute(
            "DELETE FROM rm_certificate_expiry"
            " WHERE tenant_id = %s AND certificate_id = %s",
            (tenant_id, certificate_id),
        )


class PostgresDueCertificates:
    """Read side: certificates whose expiry date has come, across tenants
    (the processor acts for each certificate's own tenant)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def due(self, today: date, limit: int = 500) -> list[DueCertificate]:
        with self._db.connection() as conn:
            rows = conn.execute(
                "SELECT tenant_id, certificate_id, expiry_date"
                " FROM rm_certificate_expiry WHERE expiry_date <= %s"
                " ORDER BY expiry_date, certificate_id LIMIT %s",
                (today, limit),
            ).fetchall()
        return [DueCertificate(r[0], r[1], r[2]) for r in rows]
