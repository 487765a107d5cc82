"""Postgres read side of the organizations read model (``rm_organizations``).

The projection writes it through :class:`infra.postgres.rows.PostgresRows`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import sql

from domain.principal import Principal
from infra.postgres.pool import Connection, Database
from infra.postgres.rows import qualified
from projections.organizations import (
    ORGANIZATIONS,
    SITES,
    OrganizationProjection,
    OrganizationRecord,
    SiteRecord,
)

_ORGANIZATIONS = qualified(OrganizationProjection.name, ORGANIZATIONS.name)
_COLUMNS = sql.SQL(
    "tenant_id, id, name, country, version, registered_at, updated_at,"
    " registration_number, archived"
)
_SITES = sql.SQL(
    "SELECT organization_id, id, name, address, country FROM {}"
    " WHERE tenant_id = %s AND organization_id = ANY(%s) ORDER BY position, id"
).format(qualified(OrganizationProjection.name, SITES.name))
_GET = sql.SQL("SELECT {} FROM {} WHERE tenant_id = %s AND id = %s").format(
    _COLUMNS, _ORGANIZATIONS
)


def _record(row: tuple[Any, ...], sites: list[SiteRecord]) -> OrganizationRecord:
    return OrganizationRecord(
        tenant_id=row[0],
        id=row[1],
        name=row[2],
        country=row[3],
        registration_number=row[7],
        archived=row[8],
        sites=tuple(sites),
        version=row[4],
        registered_at=row[5],
        updated_at=row[6],
    )


def _with_sites(
    conn: Connection, tenant_id: str, rows: list[tuple[Any, ...]]
) -> list[OrganizationRecord]:
    """Records for ``rows``, their sites fetched in one query."""
    sites: dict[UUID, list[SiteRecord]] = {row[1]: [] for row in rows}
    if rows:
        for org_id, *site in conn.execute(_SITES, (tenant_id, list(sites))):
            sites[org_id].append(SiteRecord(site[0], site[1], site[2], site[3]))
    return [_record(row, sites[row[1]]) for row in rows]


class PostgresOrganizationView:
    """Queries of the organizations read model, always within the caller's
    tenant and organization scope."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def get(
        self, principal: Principal, organization_id: UUID
    ) -> OrganizationRecord | None:
        if not principal.may_see_organization(organization_id):
            return None
        with self._db.connection() as conn:
            row = conn.execute(_GET, (principal.tenant_id, organization_id)).fetchone()
            if row is None:
                return None
            return _with_sites(conn, principal.tenant_id, [row])[0]
