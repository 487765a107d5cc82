"""Wire models of the certificate registry (rows of the ``certificates``
projection's ``certificates`` table)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.certificate_values import CertificateStatus
from read_api.schemas.as_of import AsOfPublic, as_of_field
from read_api.schemas.rows import Page, Position, Version, examples, page_examples

CERTIFICATE_EXAMPLE = {
    "id": "d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a",
    "number": "ACME-2026-000123",
    "revision": 1,
    "organization_id": "8e1d4c7b-2a3f-4e5d-9c6b-7a8f9e0d1c2b",
    "standard_name": "ISO 9001",
    "standard_edition": "2015",
    "sites": [
        {
            "site_id": "2c9e7a1b-5d3f-4a8e-b6c2-0d1e9f8a7b6c",
            "scope": "Design and manufacture of industrial pumps",
        }
    ],
    "scope_text": "Design and manufacture of industrial pumps",
    "status": "active",
    "effective_date": "2026-03-20",
    "expiry_date": "2029-03-19",
    "version": 1,
    "position": 4502,
    "previous_id": None,
    "superseded_by_id": None,
    "audit_id": "0f7c2b9a-6d1e-4c3b-8a5f-9e2d1c0b7a64",
    "decision_date": "2026-03-18",
    "issue_date": "2026-03-20",
    "status_since": "2026-03-20",
    "suspended_on": None,
    "suspended_until": None,
    "suspension_reason": None,
    "withdrawn_on": None,
    "withdrawal_reason": None,
    "expired_on": None,
    "superseded_on": None,
    "issued_at": "2026-03-20T11:02:37.441950+00:00",
    "updated_at": "2026-03-20T11:02:37.441950+00:00",
}


class CertifiedSitePublic(BaseModel):
    """A certified site and its scope."""

    site_id: UUID
    scope: str


class CertificatePublic(BaseModel):
    """A certificate revision as listed (``GET /certificates``)."""

    model_config = ConfigDict(json_schema_extra=examples(CERTIFICATE_EXAMPLE))

    id: UUID
    number: str = Field(description="The same for every revision")
    revision: int
    organization_id: UUID
    standard_name: str
    standard_edition: str
    sites: list[CertifiedSitePublic]
    scope_text: str = Field(description="The sites' scopes, one per line")
    status: CertificateStatus = Field(
        description="As recorded: an active certificate past its expiry date "
        "stays active until its expiry is recorded"
    )
    effective_date: date
    expiry_date: date
    version: Version
    position: Position
    previous_id: UUID | None = Field(description="The revision this one replaced")
    superseded_by_id: UUID | None = Field(description="The revision that replaced it")
    audit_id: UUID = Field(description="The audit whose grant it rests on")
    decision_date: date
    issue_date: date
    status_since: date
    suspended_on: date | None
    suspended_until: date | None
    suspension_reason: str | None
    withdrawn_on: date | None
    withdrawal_reason: str | None
    expired_on: date | None
    superseded_on: date | None
    issued_at: datetime
    updated_at: datetime


class CertificatePage(Page[CertificatePublic]):
    model_config = ConfigDict(json_schema_extra=page_examples(CERTIFICATE_EXAMPLE))


class CertificateRevisionPublic(BaseModel):
    """One revision of a certificate number."""

    id: UUID
    revision: int
    status: CertificateStatus
    effective_date: date
    expiry_date: date
    issue_date: date


class CertificateDetail(CertificatePublic):
    """One revision with every revision of its number."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                **CERTIFICATE_EXAMPLE,
                "revisions": [
                    {
                        k: CERTIFICATE_EXAMPLE[k]
                        for k in CertificateRevisionPublic.model_fields
                    }
                ],
            }
        )
    )

    revisions: list[CertificateRevisionPublic] = Field(
        description="Every revision of the number, oldest first"
    )
    as_of: AsOfPublic | None = as_of_field()
