"""Organizations read model: the projection and its ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.principal import Principal
from projections.envelope import EventEnvelope

REGISTERED = "assurehub.organization.registered.v1"
RENAMED = "assurehub.organization.renamed.v1"
SITE_ADDED = "assurehub.organization.site_added.v1"


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
    """Write port of the organizations read model (one transaction)."""

    def insert(self, change: Change, name: str, country: str) -> None: ...

    def rename(self, change: Change, name: str) -> None: ...

    def add_site(self, change: Change, site: SiteRecord) -> None: ...


class OrganizationView(Protocol):
    """Read port; every method needs the caller, so no query lacks a tenant."""

    def get(
        self, principal: Principal, organization_id: UUID
    ) -> OrganizationRecord | None: ...

    def list(
        self, principal: Principal, query: OrganizationQuery
    ) -> OrganizationPage: ...


class OrganizationProjection:
    """Builds the organizations read model from organization events."""

    name = "organizations"

    def apply(self, event: EventEnvelope, store: OrganizationStore) -> None:
        data: dict[str, Any] = event.data
        if event.type == REGISTERED:
            store.insert(Change.of(event), data["name"], data["country"])
        elif event.type == RENAMED:
            store.rename(Change.of(event), data["name"])
        elif event.type == SITE_ADDED:
            site = SiteRecord(
                id=UUID(data["site_id"]),
                name=data["site_name"],
                address=data["address"],
                country=data["country"],
            )
            store.add_site(Change.of(event), site)
