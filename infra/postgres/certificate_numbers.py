"""Certificate numbers: ``<TENANT CODE>-<YEAR>-<SEQUENCE>``, unique across
the platform because the tenant code is derived from the (unique) tenant id."""

from __future__ import annotations

import re
import threading

from infra.postgres.pool import Database

_NOT_CODE = re.compile(r"[^A-Z0-9]")


def tenant_code(tenant_id: str) -> str:
    """Up to 12 upper-case letters and digits of the tenant id (at least 2)."""
    code = _NOT_CODE.sub("", tenant_id.upper())[:12]
    return code if len(code) >= 2 else (code + "XX")[:2]


def format_number(tenant_id: str, year: int, value: int) -> str:
    return f"{tenant_code(tenant_id)}-{year:04d}-{value:06d}"


class PostgresCertificateNumbers:
    """Sequences in Postgres, one row per tenant code and year."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def next_number(self, tenant_id: str, year: int) -> str:
        with self._db.connection() as conn:
            row = conn.execute(
                "INSERT INTO certificate_number_sequences"
                " (tenant_code, year, last_value) VALUES (%s, %s, 1)"
                " ON CONFLICT (tenant_code, year) DO UPDATE"
                " SET last_value = certificate_number_sequences.last_value + 1"
                " RETURNING last_value",
                (tenant_code(tenant_id), year),
            ).fetchone()
        assert row is not None
        return format_number(tenant_id, year, int(row[0]))


class InMemoryCertificateNumbers:
    """The same sequences in memory: the test twin."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def next_number(self, tenant_id: str, year: int) -> str:
        key = (tenant_code(tenant_id), year)
        with self._lock:
            self._last[key] = self._last.get(key, 0) + 1
            return format_number(tenant_id, year, self._last[key])
