"""Wire models of client organizations (rows of the ``organizations``
projection) and the organization detail."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.certificate_values import CertificateStatus
from projections.organizations import OrganizationRecord
from read_api.schemas.as_of import AsOfPublic, as_of_field
from read_api.schemas.rows import Page, Position, Version, examples, page_examples

ORGANIZATION_EXAMPLE = {
    "id": "8e1d4c7b-2a3f-4e5d-9c6b-7a8f9e0d1c2b",
    "name": "Northwind Pumps Ltd",
    "country": "GB",
    "registration_number": "04567890",
    "archived": False,
    "version": 3,
    "position": 4120,
    "registered_at": "2026-01-12T09:00:00.000000+00:00",
    "updated_at": "2026-01-12T09:05:12.310000+00:00",
}
SITE_EXAMPLE = {
    "id": "2c9e7a1b-5d3f-4a8e-b6c2-0d1e9f8a7b6c",
    "name": "Leeds works",
    "address": "1 Canal Road, Leeds",
    "country": "GB",
}
CURRENT_CERTIFICATE_EXAMPLE = {
    "id": "d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a",
    "number": "ACME-2026-000123",
    "revision": 1,
    "standard_name": "ISO 9001",
    "standard_edition": "2015",
    "status": "active",
    "effective_date": "2026-03-20",
    "expiry_date": "2029-03-19",
}


class OrganizationPublic(BaseModel):
    """An organization as listed (``GET /organizations``); its sites and
    certificates are on the detail."""

    model_config = ConfigDict(json_schema_extra=examples(ORGANIZATION_EXAMPLE))

    id: UUID
    name: str
    country: str = Field(description="ISO 3166-1 alpha-2")
    registration_number: str | None
    archived: bool
    version: Version
    position: Position
    registered_at: datetime
    updated_at: datetime


class OrganizationPage(Page[OrganizationPublic]):
    model_config = ConfigDict(json_schema_extra=page_examples(ORGANIZATION_EXAMPLE))


class SitePublic(BaseModel):
    id: UUID
    name: str
    address: str
    country: str


class CurrentCertificate(BaseModel):
    """A certificate in force (active or suspended) held by an organization."""

    id: UUID
    number: str
    revision: int
    standard_name: str
    standard_edition: str
    status: CertificateStatus
    effective_date: date
    expiry_date: date


class OrganizationDetail(BaseModel):
    """One organization with its sites and its certificates in force."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                **{k: v for k, v in ORGANIZATION_EXAMPLE.items() if k != "position"},
                "sites": [SITE_EXAMPLE],
                "certificates": [CURRENT_CERTIFICATE_EXAMPLE],
            }
        )
    )

    id: UUID
    name: str
    country: str
    registration_number: str | None
    archived: bool
    sites: list[SitePublic]
    version: int = Field(description="Aggregate version; send it back as If-Match")
    registered_at: datetime
    updated_at: datetime
    certificates: list[CurrentCertificate] = Field(
        description="Its certificates in force (latest revisions, active or suspended)"
    )
    as_of: AsOfPublic | None = as_of_field()

    @classmethod
    def of(
        cls, record: OrganizationRecord, certificates: list[CurrentCertificate]
    ) -> OrganizationDetail:
        """The detail of ``record`` holding ``certificates``."""
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
            certificates=certificates,
        )
