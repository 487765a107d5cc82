"""Postgres adapters of the organizations read model."""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

from domain.principal import Principal
from infra.errors import InfrastructureError
from infra.postgres.pool import Connection, Database
from projections.organizations import (
    Change,
    OrganizationPage,
    OrganizationQuery,
    OrganizationRecord,
    SiteRecord,
)


class InvalidCursorError(InfrastructureError, ValueError):
    """A pagination cursor that this view did not issue."""


def name_key(name: str) -> str:
    return name.casefold()


_UPDATABLE = {
    "name": "name = %s, name_key = %s,",
    "country": "country = %s,",
    "registration_number": "registration_number = %s,",
    "archived": "archived = %s,",
}


class PostgresOrganizationStore:
    """Write side, bound to the projection runner's open transaction.

    Every update is guarded by the version, so an event can never move a row
    backwards even if it were delivered twice.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(
        self, change: Change, name: str, country: str, registration_number: str | None
    ) -> None:
        """Create the row (a repeated registration changes nothing)."""
        self._conn.execute(
            "INSERT INTO rm_organizations (tenant_id, id, name, name_key, country,"
            " registration_number, version, position, registered_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (tenant_id, id) DO NOTHING",
            (
                change.tenant_id,
                change.organization_id,
                name,
                name_key(name),
                country,
                registration_number,
                change.version,
                change.position,
                change.at,
                change.at,
            ),
        )

    def update(self, change: Change, fields: dict[str, str | bool | None]) -> bool:
        """Set ``fields`` and the version if the row is older than the change."""
        assignments = "".join(_UPDATABLE[name] for name in fields)
        params: list[Any] = []
        for name, value in fields.items():
            params.append(value)
            if name == "name":
                params.append(name_key(str(value)))
        cursor = self._conn.execute(
            f"UPDATE rm_organizations SET {assignments}"  # noqa: S608 - allowlisted
            " version = %s, position = %s, updated_at = %s"
            " WHERE tenant_id = %s AND id = %s AND version < %s",
            (
                *params,
                change.version,
                change.position,
                change.at,
                change.tenant_id,
                change.organization_id,
                change.version,
            ),
        )
        return cursor.rowcount == 1

    def put_site(self, change: Change, site: SiteRecord) -> None:
        """Insert or replace one site row."""
        self._conn.execute(
            "INSERT INTO rm_organization_sites (tenant_id, organization_id, id,"
            " name, address, country, position)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (tenant_id, organization_id, id) DO UPDATE SET"
            " name = EXCLUDED.name, address = EXCLUDED.address,"
            " country = EXCLUDED.country",
            (
                change.tenant_id,
                change.organization_id,
                site.id,
                site.name,
                site.address,
                site.country,
                change.position,
            ),
        )

    def remove_site(self, change: Change, site_id: UUID) -> None:
        """Delete one site row."""
        self._conn.execute(
            "DELETE FROM rm_organization_sites"
            " WHERE tenant_id = %s AND organization_id = %s AND id = %s",
            (change.tenant_id, change.organization_id, site_id),
        )


_COLUMNS = (
    "tenant_id, id, name, country, version, registered_at, updated_at, name_key,"
    " registration_number, archived"
)
_SITES = (
    "SELECT organization_id, id, name, address, country FROM rm_organization_sites"
    " WHERE tenant_id = %s AND organization_id = ANY(%s) ORDER BY position, id"
)


def _record(row: tuple[Any, ...], sites: list[SiteRecord]) -> OrganizationRecord:
    return OrganizationRecord(
        tenant_id=row[0],
        id=row[1],
        name=row[2],
        country=row[3].strip(),
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
            sites[org_id].append(SiteRecord(site[0], site[1], site[2], site[3].strip()))
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
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM rm_organizations"  # noqa: S608 - constant
                " WHERE tenant_id = %s AND id = %s",
                (principal.tenant_id, organization_id),
            ).fetchone()
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
        sql = (
            f"SELECT {_COLUMNS} FROM rm_organizations"  # noqa: S608 - fixed fragments
            f" WHERE {' AND '.join(where)} ORDER BY name_key, id LIMIT %s"
        )
        with self._db.connection() as conn:
            rows = conn.execute(sql.encode(), params).fetchall()
            more = len(rows) > query.limit
            rows = rows[: query.limit]
            records = _with_sites(conn, principal.tenant_id, rows)
        next_cursor = encode_cursor(rows[-1][7], rows[-1][1]) if more else None
        return OrganizationPage(records, next_cursor)
