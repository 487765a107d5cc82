"""Wire models of the caller's own account, the tenant's API tokens and the
tenant's settings."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from domain.principal import Role


class MePublic(BaseModel):
    account_id: UUID
    tenant: str
    email: str
    name: str
    roles: list[Role]
    organization_ids: list[UUID]
    mfa_enrolled: bool
    mfa_enrollment_required: bool


class ApiTokenPublic(BaseModel):
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

    tenant_id: str
    time_zone: str = Field(examples=["Europe/Berlin"])
    today: date = Field(description="Today's date in the tenant's time zone")
    mfa_required_for_all: bool = Field(
        description="Every user must use a second factor"
    )
    mfa_required_roles: list[str] = Field(
        description="Users holding one of these roles must use a second factor"
    )
    version: int = Field(description="0 until the settings are first set")
