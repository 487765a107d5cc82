"""Organizations read model: the projection and its ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.principal import Principal
from projections.envelope import EventEnvelope

_PREFIX = "assurehub.organization."
REGISTERED = f"{_PREFIX}registered.v2"
RENAMED = f"{_PREFIX}renamed.v1"
DETAILS_CHANGED = f"{_PREFIX}details_changed.v1"
SITE_ADDED = f"{_PREFIX}site_added.v1"
SITE_CHANGED = f"{_PREFIX}site_changed.v1"
SITE_REMOVED = f"{_PREFIX}site_removed.v1"
ARCHIVED = f"{_PREFIX}archived.v1"


@dataclass(frozen=True)
class Change:
    """Where a change comes from: its aggregate, version, position and time."""

    tenant_id: str
    organization_id: UUID
    version: int
    position: int
    at: datetime

    @classmethod
    def of(cls, event: EventEnvelope) -> Change:
        return cls(
            tenant_id=event.tenant_id,
            organization_id=UUID(event.subject),
            version=event.aggregate_version,
            position=event.position,
            at=event.time,
        )


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


@dataclass(frozen=True)
class OrganizationQuery:
    """Filters and page of ``GET /organizations``.

    Attributes:
        name_prefix: Case-insensitive prefix of the name.
        country: ISO country code.
        after: Opaque cursor from the previous page.
        limit: Page size (the API caps it).
    """

    name_prefix: str | None = None
    country: str | None = None
    after: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class OrganizationPage:
    items: list[OrganizationRecord] = field(default_factory=list)
    next_cursor: str | None = None


class OrganizationStore(Protocol):
    """Write port of the organizations read model, bound to one transaction.

    Every method applies its change only if the stored row is older than
    ``change.version``, so a repeated event changes nothing.
    """

    def insert(
        self, change: Change, name: str, country: str, registration_number: str | None
    ) -> None:
        """Create the organization's row."""
        ...

    def update(self, change: Change, fields: dict[str, str | bool | None]) -> bool:
        """Set ``fields`` (name, country, registration_number, archived);
        return whether the change was applied."""
        ...

    def put_site(self, change: Change, site: SiteRecord) -> None:
        """Add the site, or replace it if it exists."""
        ...

    def remove_site(self, change: Change, site_id: UUID) -> None:
        """Remove the site."""
        ...


class OrganizationView(Protocol):
    """Read port; every method needs the caller, so no query lacks a tenant."""

    def get(
        self, principal: Principal, organization_id: UUID
    ) -> OrganizationRecord | None: ...

    def list(
        self, principal: Principal, query: OrganizationQuery
    ) -> OrganizationPage: ...


def _site(data: dict[str, Any]) -> SiteRecord:
    return SiteRecord(
        id=UUID(data["site_id"]),
        name=data["site_name"],
        address=data["address"],
        country=data["country"],
    )


class OrganizationProjection:
    """Builds the organizations read model from organization events."""

    name = "organizations"

    def apply(self, event: EventEnvelope, store: OrganizationStore) -> None:
        """Apply one organization event; other types are ignored."""
        data: dict[str, Any] = event.data
        change = Change.of(event)
        if event.type == REGISTERED:
            store.insert(
                change, data["name"], data["country"], data["registration_number"]
            )
        elif event.type == RENAMED:
            store.update(change, {"name": data["name"]})
        elif event.type == DETAILS_CHANGED:
            store.update(
                change,
                {
                    "country": data["country"],
                    "registration_number": data["registration_number"],
                },
            )
        elif event.type == ARCHIVED:
            store.update(change, {"archived": True})
        elif event.type in (SITE_ADDED, SITE_CHANGED):
            if store.update(change, {}):
                store.put_site(change, _site(data))
        elif event.type == SITE_REMOVED and store.update(change, {}):
            store.remove_site(change, UUID(data["site_id"]))
