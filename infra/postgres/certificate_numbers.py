"""Certificate numbers: ``<TENANT CODE>-<YEAR>-<SEQUENCE>``.

The tenant code is the one the tenant claimed across the platform (a row of
``unique_claims`` in the ``platform`` tenant, scope
:data:`~commands.identity.tenants.CERTIFICATE_CODE_CLAIM`, held by the tenant
aggregate): claimed with its creation event, or, for a tenant that has no
recorded code (created before codes were recorded, or a development tenant
that was never created), claimed here on its first number, taking the first
free one of :func:`~domain.tenant.certificate_code_candidates`. A partial
unique index lets a tenant hold one code only, so two processes numbering a
new tenant's first certificates at once agree on its code. Codes never
change, so each process remembers the codes it has read.
"""

from __future__ import annotations

import threading

from commands.identity.tenants import CERTIFICATE_CODE_CLAIM
from domain.tenant import (
    PLATFORM_TENANT,
    certificate_code_candidates,
    tenant_aggregate_id,
)
from infra.errors import InfrastructureError
from infra.postgres.pool import Connection, Database

_CODE_OF = (
    "SELECT key FROM unique_claims"
    " WHERE tenant_id = %s AND scope = %s AND aggregate_id = %s"
)
_CLAIM = (
    "INSERT INTO unique_claims (tenant_id, scope, key, aggregate_id)"
    " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING key"
)
_NEXT = (
    "INSERT INTO certificate_number_sequences (tenant_code, year, last_value)"
    " VALUES (%s, %s, 1) ON CONFLICT (tenant_code, year) DO UPDATE"
    " SET last_value = certificate_number_sequences.last_value + 1"
    " RETURNING last_value"
)


class NoCertificateCodeError(InfrastructureError):
    """Every code a tenant's slug offers is held by other tenants."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"no free certificate code for tenant {tenant_id}")
        self.tenant_id = tenant_id


def format_number(code: str, year: int, value: int) -> str:
    return f"{code}-{year:04d}-{value:06d}"


class PostgresCertificateNumbers:
    """Sequences in Postgres, one row per tenant code and year."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._codes: dict[str, str] = {}
        self._lock = threading.Lock()

    def next_number(self, tenant_id: str, year: int) -> str:
        """The next number of the tenant's code and ``year``.

        Raises:
            NoCertificateCodeError: the tenant has no code and none is free.
        """
        code = self.code_of(tenant_id)
        with self._db.connection() as conn:
            row = conn.execute(_NEXT, (code, year)).fetchone()
        assert row is not None
        return format_number(code, year, int(row[0]))

    def code_of(self, tenant_id: str) -> str:
        """The tenant's certificate code, claimed now if it has none.

        Raises:
            NoCertificateCodeError: the tenant has no code and none is free.
        """
        with self._lock:
            known = self._codes.get(tenant_id)
        if known is not None:
            return known
        with self._db.connection() as conn:
            code = _claimed(conn, tenant_id) or _claim(conn, tenant_id)
        with self._lock:
            self._codes[tenant_id] = code
        return code


def _claimed(conn: Connection, tenant_id: str) -> str | None:
    found = conn.execute(
        _CODE_OF,
        (PLATFORM_TENANT, CERTIFICATE_CODE_CLAIM, tenant_aggregate_id(tenant_id)),
    ).fetchone()
    return None if found is None else str(found[0])


def _claim(conn: Connection, tenant_id: str) -> str:
    """Claim the first free candidate; if another process claimed one for
    this tenant meanwhile (the one-code index refuses ours), that one."""
    holder = tenant_aggregate_id(tenant_id)
    for code in certificate_code_candidates(tenant_id):
        params = (PLATFORM_TENANT, CERTIFICATE_CODE_CLAIM, code, holder)
        if conn.execute(_CLAIM, params).fetchone() is not None:
            return code
        claimed = _claimed(conn, tenant_id)
        if claimed is not None:
            return claimed
    raise NoCertificateCodeError(tenant_id)


class InMemoryCertificateNumbers:
    """The same sequences and first-use claims in memory: the test twin (it
    knows only the codes it claimed, none recorded at tenant creation)."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, int], int] = {}
        self._codes: dict[str, str] = {}
        self._lock = threading.Lock()

    def next_number(self, tenant_id: str, year: int) -> str:
        """The next number of the tenant's code and ``year``."""
        with self._lock:
            code = self._code_of(tenant_id)
            key = (code, year)
            self._last[key] = self._last.get(key, 0) + 1
            return format_number(code, year, self._last[key])

    def code_of(self, tenant_id: str) -> str:
        """The tenant's certificate code, claimed now if it has none."""
        with self._lock:
            return self._code_of(tenant_id)

    def _code_of(self, tenant_id: str) -> str:
        if tenant_id not in self._codes:
            taken = set(self._codes.values())
            free = (c for c in certificate_code_candidates(tenant_id) if c not in taken)
            code = next(free, None)
            if code is None:
                raise NoCertificateCodeError(tenant_id)
            self._codes[tenant_id] = code
        return self._codes[tenant_id]
