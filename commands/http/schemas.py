"""Wire models of the command API."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from commands.http.text import MultilineText, Text
from domain.organization import ADDRESS_MAX, NAME_MAX, REASON_MAX, REGISTRATION_MAX


class StrictBody(BaseModel):
    """Base of every request body: a field it does not declare is a ``422``
    naming it.

    Its text fields are typed :data:`~commands.http.text.Text`,
    :data:`~commands.http.text.MultilineText` or
    :data:`~commands.http.text.Secret`, which carry the rule on characters and
    on white space (stripped at both ends, secrets as typed); the base model
    itself strips nothing.
    """

    model_config = ConfigDict(extra="forbid")


class OrganizationCreate(StrictBody):
    """Body of ``POST /organizations``."""

    name: Text = Field(
        min_length=1, max_length=NAME_MAX, examples=["Acme Manufacturing Ltd"]
    )
    country: Text = Field(
        min_length=2, max_length=2, description="ISO 3166-1 alpha-2", examples=["GB"]
    )
    registration_number: Text | None = Field(
        default=None, max_length=REGISTRATION_MAX, examples=["SC123456"]
    )


class OrganizationRename(StrictBody):
    """Body of ``POST /organizations/{id}/rename``."""

    name: Text = Field(min_length=1, max_length=NAME_MAX, examples=["Nordic Valves AB"])


class SiteCreate(StrictBody):
    """Body of ``POST /organizations/{id}/sites``."""

    name: Text = Field(min_length=1, max_length=NAME_MAX, examples=["Head office"])
    address: MultilineText = Field(min_length=1, max_length=ADDRESS_MAX)
    country: Text | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="ISO 3166-1 alpha-2; the organization's when omitted",
    )


class OrganizationDetailsChange(StrictBody):
    """Body of ``POST /organizations/{id}/change-details``."""

    country: Text = Field(min_length=2, max_length=2, examples=["IE"])
    registration_number: Text | None = Field(
        default=None, max_length=REGISTRATION_MAX, examples=["IE-6388047V"]
    )


class SiteChange(SiteCreate):
    """Body of ``POST /organizations/{id}/sites/{site_id}/change``."""


class OrganizationArchive(StrictBody):
    """Body of ``POST /organizations/{id}/archive``."""

    reason: MultilineText = Field(
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
