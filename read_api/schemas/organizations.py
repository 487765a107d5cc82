"""Wire models of the query API."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from projections.organizations import OrganizationRecord


class SitePublic(BaseModel):
    id: UUID
    name: str
    address: str
    country: str


class OrganizationPublic(BaseModel):
    id: UUID
    name: str
    country: str
    registration_number: str | None
    archived: bool
    sites: list[SitePublic]
    version: int = Field(description="Aggregate version; send it back as If-Match")
    registered_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: OrganizationRecord) -> OrganizationPublic:
        return cls(
            id=record.id,
            name=record.name,
            country=record.country,
            registration_number=record.registration_number,
            archived=record.archived,
            sites=[
                SitePublic(id=s.id, name=s.name, address=s.address, country=s.country)
                for s in record.sites
            ],
            version=record.version,
            registered_at=record.registered_at,
            updated_at=record.updated_at,
        )


class CurrentCertificate(BaseModel):
    """A certificate in force (active or suspended) held by an organization."""

    id: UUID
    number: str
    revision: int
    standard_name: str
    standard_edition: str
    status: str
    effective_date: date
    expiry_date: date


class OrganizationDetail(OrganizationPublic):
    certificates: list[CurrentCertificate] = Field(
        description="Its certificates in force (latest revisions, active or suspended)"
    )
