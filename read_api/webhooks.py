"""Query routes of webhook subscriptions and their deliveries (tenant
administrators)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from commands.context import CommandContext
from commands.http.deps import WebhookServiceDep
from commands.http.edge import context_for
from commands.http.webhook_schemas import (
    WebhookDeliveryPage,
    WebhookDeliveryPublic,
    WebhookSubscriptionPage,
    WebhookSubscriptionPublic,
)
from domain.access import Permission
from read_api.consistency import ALWAYS_CURRENT
from read_api.exact_query import exact_query

router = APIRouter(prefix="/webhook-subscriptions", tags=["webhooks"])

Admin = Annotated[
    CommandContext, Depends(exact_query(context_for(Permission.WEBHOOK_MANAGE)))
]
Limit = Annotated[int, Query(ge=1, le=200, description="Rows per page")]


@router.get("", response_model=WebhookSubscriptionPage, dependencies=[ALWAYS_CURRENT])
def list_subscriptions(
    ctx: Admin,
    svc: WebhookServiceDep,
    cursor: Annotated[UUID | None, Query(description="`next_cursor` of a page")] = None,
    limit: Limit = 50,
) -> WebhookSubscriptionPage:
    """The tenant's webhook subscriptions, newest first, a page at a time."""
    items, after = svc.subscriptions(ctx, cursor, limit)
    return WebhookSubscriptionPage(
        items=[WebhookSubscriptionPublic.of(s) for s in items],
        next_cursor=None if after is None else str(after),
    )


@router.get(
    "/{subscription_id}",
    response_model=WebhookSubscriptionPublic,
    dependencies=[ALWAYS_CURRENT],
)
def show_subscription(
    subscription_id: UUID, ctx: Admin, svc: WebhookServiceDep
) -> WebhookSubscriptionPublic:
    """One subscription: target, filters, state (never the secret)."""
    return WebhookSubscriptionPublic.of(svc.subscription(ctx, subscription_id))


@router.get(
    "/{subscription_id}/deliveries",
    response_model=WebhookDeliveryPage,
    dependencies=[ALWAYS_CURRENT],
)
def list_deliveries(
    subscription_id: UUID,
    ctx: Admin,
    svc: WebhookServiceDep,
    cursor: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="`next_cursor` of a page")
    ] = None,
    limit: Limit = 50,
) -> WebhookDeliveryPage:
    """Deliveries of the subscription, newest event first, each with every
    attempt (status, latency, response code, error)."""
    found = svc.deliveries(ctx, subscription_id, cursor, limit + 1)
    items = found[:limit]
    more = len(found) > limit
    return WebhookDeliveryPage(
        items=[WebhookDeliveryPublic.of(d) for d in items],
        next_cursor=str(items[-1].position) if more and items else None,
    )
