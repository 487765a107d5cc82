"""Wire models of the tenant's accounts and its security trail (rows of the
``accounts`` and ``security_events`` projections)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.principal import Role
from projections.accounts import STATUSES
from projections.security_events import KINDS
from read_api.schemas.rows import Page, Position, Version, examples, page_examples

USER_EXAMPLE = {
    "id": "7d6c5b4a-3928-4f1e-8d0c-b9a8f7e6d5c4",
    "email": "rui@acme.test",
    "name": "Rui Reviewer",
    "status": "active",
    "roles": ["technical_reviewer"],
    "organization_ids": [],
    "mfa_enrolled": True,
    "invited_at": "2026-01-08T10:00:00.000000+00:00",
    "invitation_expires_at": None,
    "activated_at": "2026-01-08T11:20:41.000000+00:00",
    "deactivated_at": None,
    "last_login_at": "2026-03-05T07:58:12.000000+00:00",
    "version": 4,
    "position": 4390,
}
SECURITY_EVENT_EXAMPLE = {
    "id": "a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d",
    "position": 4391,
    "occurred_at": "2026-03-05T07:58:12.000000+00:00",
    "kind": "account.login_failed",
    "subject_id": "7d6c5b4a-3928-4f1e-8d0c-b9a8f7e6d5c4",
    "actor_id": "7d6c5b4a-3928-4f1e-8d0c-b9a8f7e6d5c4",
    "address": "203.0.113.7",
    "detail": {"reason": "bad_password"},
}


class UserPublic(BaseModel):
    """An account of the tenant (``GET /users`` and its detail)."""

    model_config = ConfigDict(json_schema_extra=examples(USER_EXAMPLE))

    id: UUID
    email: str = Field(description="Lower-cased")
    name: str
    status: str = Field(json_schema_extra={"enum": list(STATUSES)})
    roles: list[Role]
    organization_ids: list[UUID] = Field(
        description="Client roles only: the organizations the account belongs to"
    )
    mfa_enrolled: bool
    invited_at: datetime
    invitation_expires_at: datetime | None
    activated_at: datetime | None
    deactivated_at: datetime | None
    last_login_at: datetime | None
    version: Version
    position: Position


class UserPage(Page[UserPublic]):
    model_config = ConfigDict(json_schema_extra=page_examples(USER_EXAMPLE))


class SecurityEventDetailPublic(BaseModel):
    """The event's own facts that name no person; which ones are present
    depends on the kind."""

    roles: list[str] | None = None
    organization_ids: list[UUID] | None = None
    scopes: list[str] | None = None
    reason: str | None = None
    method: str | None = None
    stage: str | None = None
    until: datetime | None = None
    session_id: UUID | None = None
    expires_at: datetime | None = None
    prefix: str | None = None
    required_for_all: bool | None = None
    required_roles: list[str] | None = None
    name: str | None = Field(
        default=None, description="A tenant's or an API token's name, never a person's"
    )
    alert_id: int | None = Field(
        default=None,
        description="The log watcher's alert (`assurehub log-alerts list`)",
    )
    position: int | None = Field(
        default=None, description="The first bad position of the tenant's event log"
    )
    problem: str | None = Field(
        default=None,
        description="What is wrong there: payload altered, event missing, …",
    )
    detail: str | None = Field(default=None, description="The verifier's finding")
    segment_from: int | None = Field(
        default=None, description="First position of the segment verified"
    )
    segment_to: int | None = Field(
        default=None, description="Last position of the segment verified"
    )


class SecurityEventPublic(BaseModel):
    """One security-relevant event of the tenant."""

    model_config = ConfigDict(json_schema_extra=examples(SECURITY_EVENT_EXAMPLE))

    id: UUID = Field(description="The event's id (its CloudEvents ce_id)")
    position: Position
    occurred_at: datetime
    kind: str = Field(json_schema_extra={"enum": list(KINDS)})
    subject_id: UUID = Field(description="The account, API token or tenant it concerns")
    actor_id: str = Field(description="Who did it")
    address: str | None = Field(description="The network address a login came from")
    detail: SecurityEventDetailPublic


class SecurityEventPage(Page[SecurityEventPublic]):
    model_config = ConfigDict(json_schema_extra=page_examples(SECURITY_EVENT_EXAMPLE))
