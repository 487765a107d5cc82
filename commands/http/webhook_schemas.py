"""Wire models of webhook subscriptions and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from commands.http.schemas import StrictBody
from commands.http.text import Text
from commands.webhooks import (
    MAX_DESCRIPTION,
    MAX_EVENT_TYPES,
    MAX_ORGANIZATIONS,
    MAX_URL_LENGTH,
    Delivery,
    Subscription,
)

_SUBSCRIPTION_ID = "6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b"
SUBSCRIPTION_EXAMPLE: dict[str, Any] = {
    "id": _SUBSCRIPTION_ID,
    "url": "https://erp.example.com/assurehub/webhooks",
    "event_types": ["assurehub.certificate.issued.v1"],
    "organization_ids": None,
    "description": "ERP certificate sync",
    "state": "active",
    "paused_reason": None,
    "created_at": "2026-03-02T09:15:00Z",
    "updated_at": "2026-03-02T09:15:00Z",
    "previous_secret_until": None,
}
_ATTEMPT_EXAMPLE: dict[str, Any] = {
    "attempt": 1,
    "started_at": "2026-03-02T09:16:00Z",
    "latency_ms": 42,
    "status_code": 204,
    "error": None,
}
DELIVERY_EXAMPLE: dict[str, Any] = {
    "id": "0b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e",
    "event_id": "1f2e3d4c-5b6a-5978-8a9b-0c1d2e3f4a5b",
    "event_type": "assurehub.certificate.issued.v1",
    "aggregate_id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
    "position": 1042,
    "state": "delivered",
    "next_attempt_at": None,
    "created_at": "2026-03-02T09:16:00Z",
    "delivered_at": "2026-03-02T09:16:00Z",
    "attempts": [_ATTEMPT_EXAMPLE],
}


class WebhookSubscriptionCreate(StrictBody):
    """Body of ``POST /webhook-subscriptions``."""

    url: Text = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="Where deliveries are POSTed; https to a public address "
        "outside development (the first example is the development receiver of "
        "docs/examples)",
        examples=[
            "http://127.0.0.1:8900/",
            "https://erp.example.com/assurehub/webhooks",
        ],
    )
    event_types: list[Text] = Field(
        default_factory=list,
        max_length=MAX_EVENT_TYPES,
        description="Public event types to deliver (empty: every type)",
        examples=[["assurehub.certificate.issued.v1"]],
    )
    organization_ids: list[UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ORGANIZATIONS,
        description="Only events of these client organizations (null: all)",
    )
    description: Text = Field(default="", max_length=MAX_DESCRIPTION)


class WebhookSubscriptionPublic(BaseModel):
    """A webhook subscription (never its secret)."""

    model_config = ConfigDict(json_schema_extra={"examples": [SUBSCRIPTION_EXAMPLE]})

    id: UUID
    url: str
    event_types: list[str] = Field(description="Empty: every type")
    organization_ids: list[UUID] | None = Field(description="Null: all")
    description: str
    state: Literal["active", "paused"]
    paused_reason: str | None
    created_at: datetime
    updated_at: datetime
    previous_secret_until: datetime | None = Field(
        description="Until when the rotated-out secret still signs (null: none)"
    )

    @classmethod
    def of(cls, s: Subscription) -> WebhookSubscriptionPublic:
        return cls(
            id=s.subscription_id,
            url=s.url,
            event_types=list(s.event_types),
            organization_ids=None
            if s.organization_ids is None
            else list(s.organization_ids),
            description=s.description,
            state="paused" if s.state == "paused" else "active",
            paused_reason=s.paused_reason,
            created_at=s.created_at,
            updated_at=s.updated_at,
            previous_secret_until=s.previous_secret_until,
        )


class WebhookSubscriptionSecret(BaseModel):
    """Shown once: the signing secret (Standard Webhooks ``whsec_…``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subscription": SUBSCRIPTION_EXAMPLE,
                    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                }
            ]
        }
    )

    subscription: WebhookSubscriptionPublic
    secret: str = Field(
        description="Verify each delivery's webhook-signature with it; it is "
        "not shown again"
    )


class WebhookSubscriptionPage(BaseModel):
    """One page of the tenant's subscriptions, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [SUBSCRIPTION_EXAMPLE], "next_cursor": None}]
        }
    )

    items: list[WebhookSubscriptionPublic]
    next_cursor: str | None = Field(
        description="Send as `cursor` for the next page; null on the last page"
    )


class WebhookAttemptPublic(BaseModel):
    """One try at delivering."""

    attempt: int
    started_at: datetime
    latency_ms: int
    status_code: int | None = Field(description="The receiver's status, if any")
    error: str | None = Field(description="Why it failed (null: delivered)")


class WebhookDeliveryPublic(BaseModel):
    """One event owed to the subscription, with every attempt."""

    model_config = ConfigDict(json_schema_extra={"examples": [DELIVERY_EXAMPLE]})

    id: UUID
    event_id: str = Field(description="The CloudEvent id, sent as webhook-id")
    event_type: str
    aggregate_id: str
    position: int
    state: Literal["pending", "delivered"]
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    attempts: list[WebhookAttemptPublic]

    @classmethod
    def of(cls, d: Delivery) -> WebhookDeliveryPublic:
        return cls(
            id=d.delivery_id,
            event_id=d.event_id,
            event_type=d.event_type,
            aggregate_id=d.aggregate_id,
            position=d.position,
            state="delivered" if d.state == "delivered" else "pending",
            next_attempt_at=d.next_attempt_at,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            attempts=[
                WebhookAttemptPublic(
                    attempt=a.attempt,
                    started_at=a.started_at,
                    latency_ms=a.latency_ms,
                    status_code=a.status_code,
                    error=a.error,
                )
                for a in d.attempts
            ],
        )


class WebhookDeliveryPage(BaseModel):
    """Deliveries, newest position first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [DELIVERY_EXAMPLE], "next_cursor": "1042"}]
        }
    )

    items: list[WebhookDeliveryPublic]
    next_cursor: str | None = Field(
        description="Send as `cursor` for the next page; null on the last page"
    )


class WebhookReplayed(BaseModel):
    """How many deliveries were made due again."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"deliveries": 12}]})

    deliveries: int
