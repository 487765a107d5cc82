"""The public answer of certificate verification."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from infra.postgres.verification import CertificateVerification
from read_api.schemas.rows import examples

VERIFICATION_EXAMPLE = {
    "number": "ACME-2026-000123",
    "status": "active",
    "holder": "Nordic Valves AB",
    "standard": "ISO 9001",
    "edition": "2015",
    "scopes": [
        {"site": "Gothenburg plant", "scope": "Design and manufacture of valves"}
    ],
    "effective_date": "2026-12-05",
    "expiry_date": "2029-12-04",
    "revision": 1,
    "superseded": False,
}


class CertifiedScopePublic(BaseModel):
    site: str | None = Field(description="The site's name (null if unknown)")
    scope: str


class CertificateVerificationPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(VERIFICATION_EXAMPLE))

    number: str
    status: str = Field(
        description="active, suspended, withdrawn, expired or superseded, today "
        "(UTC); expired from the expiry date on"
    )
    holder: str | None = Field(description="The certified organization's name")
    standard: str
    edition: str
    scopes: list[CertifiedScopePublic]
    effective_date: date
    expiry_date: date
    revision: int
    superseded: bool = Field(description="A later revision of this number exists")

    @classmethod
    def of(cls, found: CertificateVerification) -> CertificateVerificationPublic:
        return cls(
            number=found.number,
            status=found.status,
            holder=found.holder,
            standard=found.standard,
            edition=found.edition,
            scopes=[
                CertifiedScopePublic(site=s.site, scope=s.scope) for s in found.scopes
            ],
            effective_date=found.effective_date,
            expiry_date=found.expiry_date,
            revision=found.revision,
            superseded=found.superseded,
        )
