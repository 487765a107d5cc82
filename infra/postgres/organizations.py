"""Postgres read side of the organizations read model (``rm_organizations``).

The projection writes it through :class:`infra.postgres.rows.PostgresRows`.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

from psycopg import sql

from domain.principal import Principal
from infra.errors import InfrastructureError
from infra.postgres.pool import Connection, Database
from infra.postgres.rows import qualified
from projections.organizations import (
    ORGANIZATIONS,
    SITES,
    OrganizationPage,
    OrganizationProjection,
    OrganizationQuery,
    OrganizationRecord,
    SiteRecord,
    name_key,
)


class InvalidCursorError(InfrastructureError, ValueError):
    """A pagination cursor that this view did not issue."""


_ORGANIZATIONS = qualified(OrganizationProjection.name, ORGANIZATIONS.name)
_COLUMNS = sql.SQL(
    "tenant_id, id, name, country, version, registered_at, updated_at, name_key,"
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
        registration_number=row[8],
        archived=row[9],
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


def encode_cursor(key: str, organization_id: UUID) -> str:
    raw = json.dumps([key, str(organization_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, ident = json.loads(raw)
        return str(key), UUID(ident)
    except (ValueError, TypeError) as e:
        raise InvalidCursorError("cursor is not one this API issued") from e


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


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

    def list(self, principal: Principal, query: OrganizationQuery) -> OrganizationPage:
        where = ["tenant_id = %s"]
        params: list[Any] = [principal.tenant_id]
        if principal.organization_ids is not None:
            where.append("id = ANY(%s)")
            params.append(list(principal.organization_ids))
        if query.name_prefix:
            where.append("name_key LIKE %s")
            params.append(_like_prefix(name_key(query.name_prefix)))
        if query.country:
            where.append("country = %s")
            params.append(query.country)
        if query.after:
            key, ident = decode_cursor(query.after)
            where.append("(name_key, id) > (%s, %s)")
            params.extend([key, ident])
        params.append(query.limit + 1)
        statement = sql.SQL(
            "SELECT {} FROM {} WHERE {} ORDER BY name_key, id LIMIT %s"
        ).format(_COLUMNS, _ORGANIZATIONS, sql.SQL(" AND ".join(where)))
        with self._db.connection() as conn:
            rows = conn.execute(statement, params).fetchall()
            more = len(rows) > query.limit
            rows = rows[: query.limit]
            records = _with_sites(conn, principal.tenant_id, rows)
        next_cursor = encode_cursor(rows[-1][7], rows[-1][1]) if more else None
        return OrganizationPage(records, next_cursor)
