"""Wire models of the caller's own account, the tenant's API tokens and the
tenant's settings."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.principal import Role
from read_api.schemas.rows import examples


class MePublic(BaseModel):
    """The caller's own account."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "account_id": "7d6c5b4a-3928-4f1e-8d0c-b9a8f7e6d5c4",
                "tenant": "acme-cert",
                "email": "rui@acme.test",
                "name": "Rui Reviewer",
                "roles": ["technical_reviewer"],
                "organization_ids": [],
                "mfa_enrolled": True,
                "mfa_enrollment_required": False,
            }
        )
    )

    account_id: UUID
    tenant: str
    email: str
    name: str
    roles: list[Role]
    organization_ids: list[UUID]
    mfa_enrolled: bool
    mfa_enrollment_required: bool = Field(
        description="A tenant policy requires a second factor the caller has not "
        "enrolled yet: only /me and enrollment are open until then"
    )


class ApiTokenPublic(BaseModel):
    """A service account's API token (never the token itself)."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "id": "e7f6a5b4-c3d2-4e1f-a0b9-c8d7e6f5a4b3",
                "name": "ERP certificate sync",
                "prefix": "ah_live_3kq9",
                "roles": ["compliance_officer"],
                "scopes": ["certificate:read"],
                "created_at": "2026-02-01T12:00:00Z",
                "expires_at": "2026-05-02T12:00:00Z",
                "revoked_at": None,
                "last_used_at": "2026-03-05T06:00:14Z",
            }
        )
    )

    id: UUID
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it")
    roles: list[str]
    scopes: list[str]
    created_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TenantSettingsPublic(BaseModel):
    """The caller's tenant's settings."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "tenant_id": "acme-cert",
                "time_zone": "Europe/Berlin",
                "today": "2026-03-05",
                "mfa_required_for_all": False,
                "mfa_required_roles": ["tenant_admin"],
                "certificate_template_id": "0b7d4c8e-5a61-4f0e-8d3c-2e9f1a6b7c02",
                "version": 2,
            }
        )
    )

    tenant_id: str
    time_zone: str = Field(examples=["Europe/Berlin"])
    today: date = Field(description="Today's date in the tenant's time zone")
    mfa_required_for_all: bool = Field(
        description="Every user must use a second factor"
    )
    mfa_required_roles: list[str] = Field(
        description="Users holding one of these roles must use a second factor"
    )
    certificate_template_id: UUID | None = Field(
        description="The document template certificates are rendered with; "
        "none are rendered until one is chosen"
    )
    version: int = Field(description="0 until the settings are first set")
