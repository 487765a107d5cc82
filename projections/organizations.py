"""Organizations read model: the projection and its ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.principal import Principal
from projections.envelope import EventEnvelope
from projections.rows import Column, Rows, Table

_PREFIX = "assurehub.organization."
REGISTERED = f"{_PREFIX}registered.v2"
RENAMED = f"{_PREFIX}renamed.v1"
DETAILS_CHANGED = f"{_PREFIX}details_changed.v1"
SITE_ADDED = f"{_PREFIX}site_added.v1"
SITE_CHANGED = f"{_PREFIX}site_changed.v1"
SITE_REMOVED = f"{_PREFIX}site_removed.v1"
ARCHIVED = f"{_PREFIX}archived.v1"


@dataclass(frozen=True)
class SiteRecord:
    id: UUID
    name: str
    address: str
    country: str


@dataclass(frozen=True)
class OrganizationRecord:
    tenant_id: str
    id: UUID
    name: str
    country: str
    registration_number: str | None
    archived: bool
    sites: tuple[SiteRecord, ...]
    version: int
    registered_at: datetime
    updated_at: datetime


class OrganizationView(Protocol):
    """Read port; every method needs the caller, so no query lacks a tenant."""

    def get(
        self, principal: Principal, organization_id: UUID
    ) -> OrganizationRecord | None: ...


def name_key(name: str) -> str:
    """The sort and prefix-search key of a name (case-folded)."""
    return name.casefold()


ORGANIZATIONS = Table(
    "organizations",
    (
        Column("tenant_id", "text", False),
        Column("id", "uuid", False),
        Column("name", "text", False),
        Column("name_key", 'text COLLATE "C"', False),
        Column("country", "text", False),
        Column("registration_number", "text"),
        Column("archived", "boolean", False),
        Column("version", "integer", False),
        Column("position", "bigint", False),
        Column("registered_at", "timestamptz", False),
        Column("updated_at", "timestamptz", False),
    ),
    key=("tenant_id", "id"),
    indexes=(
        ("tenant_id", "name_key", "id"),
        ("tenant_id", "country", "name_key", "id"),
        ("tenant_id", "registered_at", "id"),
        ("tenant_id", "updated_at", "id"),
    ),
)
SITES = Table(
    "sites",
    (
        Column("tenant_id", "text", False),
        Column("organization_id", "uuid", False),
        Column("id", "uuid", False),
        Column("name", "text", False),
        Column("address", "text", False),
        Column("country", "text", False),
        Column("position", "bigint", False),
    ),
    key=("tenant_id", "organization_id", "id"),
)


class OrganizationProjection:
    """Builds the organizations read model from organization events.

    Rows: one per organization, one per site (sites keep the position of the
    event that added them, which orders them).
    """

    name = "organizations"
    tables: tuple[Table, ...] = (ORGANIZATIONS, SITES)

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Apply one organization event; other types are ignored."""
        data: dict[str, Any] = event.data
        if event.type == REGISTERED:
            store.insert(ORGANIZATIONS.name, _registered(event))
            return
        changes = _changes(event.type, data)
        if changes is None:
            return
        key = (event.tenant_id, UUID(event.subject))
        stamp = {
            "version": event.aggregate_version,
            "position": event.position,
            "updated_at": event.time,
        }
        if not store.update(ORGANIZATIONS.name, key, {**changes, **stamp}):
            return  # its registration is not here: nothing to attach a site to
        if event.type in (SITE_ADDED, SITE_CHANGED):
            _put_site(store, event, data)
        elif event.type == SITE_REMOVED:
            store.delete(SITES.name, (*key, UUID(data["site_id"])))


def _registered(event: EventEnvelope) -> dict[str, Any]:
    data = event.data
    return {
        "tenant_id": event.tenant_id,
        "id": UUID(event.subject),
        "name": data["name"],
        "name_key": name_key(data["name"]),
        "country": data["country"],
        "registration_number": data["registration_number"],
        "archived": False,
        "version": event.aggregate_version,
        "position": event.position,
        "registered_at": event.time,
        "updated_at": event.time,
    }


def _changes(event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """Columns of the organization row an event sets (``None``: not ours)."""
    if event_type == RENAMED:
        return {"name": data["name"], "name_key": name_key(data["name"])}
    if event_type == DETAILS_CHANGED:
        return {
            "country": data["country"],
            "registration_number": data["registration_number"],
        }
    if event_type == ARCHIVED:
        return {"archived": True}
    if event_type in (SITE_ADDED, SITE_CHANGED, SITE_REMOVED):
        return {}
    return None


def _put_site(store: Rows, event: EventEnvelope, data: dict[str, Any]) -> None:
    """Add the site, or change it in place (keeping its original position)."""
    key = (event.tenant_id, UUID(event.subject), UUID(data["site_id"]))
    fields = {
        "name": data["site_name"],
        "address": data["address"],
        "country": data["country"],
    }
    if not store.update(SITES.name, key, fields):
        store.insert(
            SITES.name,
            {
                "tenant_id": key[0],
                "organization_id": key[1],
                "id": key[2],
                **fields,
                "position": event.position,
            },
        )
