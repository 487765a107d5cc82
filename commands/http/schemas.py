"""Wire models of the command API."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.organization import ADDRESS_MAX, NAME_MAX, REASON_MAX, REGISTRATION_MAX


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganizationCreate(_Strict):
    """Body of ``POST /organizations``."""

    name: str = Field(
        min_length=1, max_length=NAME_MAX, examples=["Acme Manufacturing Ltd"]
    )
    country: str = Field(
        min_length=2, max_length=2, description="ISO 3166-1 alpha-2", examples=["GB"]
    )
    registration_number: str | None = Field(
        default=None, max_length=REGISTRATION_MAX, examples=["SC123456"]
    )


class OrganizationRename(_Strict):
    """Body of ``POST /organizations/{id}/rename``."""

    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["Nordic Valves AB"])


class SiteCreate(_Strict):
    """Body of ``POST /organizations/{id}/sites``."""

    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["Head office"])
    address: str = Field(min_length=1, max_length=ADDRESS_MAX)
    country: str | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="ISO 3166-1 alpha-2; the organization's when omitted",
    )


class OrganizationDetailsChange(_Strict):
    """Body of ``POST /organizations/{id}/change-details``."""

    country: str = Field(min_length=2, max_length=2, examples=["IE"])
    registration_number: str | None = Field(
        default=None, max_length=REGISTRATION_MAX, examples=["IE-6388047V"]
    )


class SiteChange(SiteCreate):
    """Body of ``POST /organizations/{id}/sites/{site_id}/change``."""


class OrganizationArchive(_Strict):
    """Body of ``POST /organizations/{id}/archive``."""

    reason: str = Field(
        min_length=1, max_length=REASON_MAX, examples=["Client contract ended"]
    )


class CommandAccepted(BaseModel):
    """The answer every accepted command shares."""

    id: UUID
    version: int = Field(description="The aggregate's version after the command")
    position: int = Field(
        description="Global position of the last event written; pass it as "
        "min_position to read your own write"
    )


class SiteAccepted(CommandAccepted):
    site_id: UUID
