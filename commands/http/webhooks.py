"""Command routes of webhook subscriptions (tenant administrators)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from commands.context import CommandContext
from commands.http.deps import WebhookServiceDep
from commands.http.edge import context_for
from commands.http.webhook_schemas import (
    WebhookReplayed,
    WebhookSubscriptionCreate,
    WebhookSubscriptionPublic,
    WebhookSubscriptionSecret,
)
from commands.webhooks import Created, Subscribe
from domain.access import Permission

router = APIRouter(prefix="/webhook-subscriptions", tags=["webhooks"])

Admin = Annotated[
    CommandContext,
    Depends(context_for(Permission.WEBHOOK_MANAGE, idempotent=False)),
]
POSITION_MAX = 2**63 - 1


def _secret(created: Created, response: Response) -> WebhookSubscriptionSecret:
    response.headers["Cache-Control"] = "no-store"
    return WebhookSubscriptionSecret(
        subscription=WebhookSubscriptionPublic.of(created.subscription),
        secret=created.secret,
    )


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=WebhookSubscriptionSecret
)
def subscribe(
    body: WebhookSubscriptionCreate,
    ctx: Admin,
    svc: WebhookServiceDep,
    response: Response,
) -> WebhookSubscriptionSecret:
    """Subscribe a target URL to the tenant's events. Deliveries follow
    Standard Webhooks; the signing secret is in this answer only."""
    created = svc.subscribe(
        ctx,
        Subscribe(
            body.url,
            tuple(body.event_types),
            None if body.organization_ids is None else tuple(body.organization_ids),
            body.description,
        ),
    )
    response.headers["Location"] = (
        f"/webhook-subscriptions/{created.subscription.subscription_id}"
    )
    return _secret(created, response)


@router.post("/{subscription_id}/pause", response_model=WebhookSubscriptionPublic)
def pause(
    subscription_id: UUID, ctx: Admin, svc: WebhookServiceDep
) -> WebhookSubscriptionPublic:
    """Stop delivering; events keep being queued and follow on resume."""
    return WebhookSubscriptionPublic.of(svc.pause(ctx, subscription_id))


@router.post("/{subscription_id}/resume", response_model=WebhookSubscriptionPublic)
def resume(
    subscription_id: UUID, ctx: Admin, svc: WebhookServiceDep
) -> WebhookSubscriptionPublic:
    """Deliver again, starting with what queued up meanwhile."""
    return WebhookSubscriptionPublic.of(svc.resume(ctx, subscription_id))


@router.post(
    "/{subscription_id}/rotate-secret", response_model=WebhookSubscriptionSecret
)
def rotate_secret(
    subscription_id: UUID, ctx: Admin, svc: WebhookServiceDep, response: Response
) -> WebhookSubscriptionSecret:
    """A new signing secret, shown once; deliveries carry signatures by both
    the new and the previous secret until ``previous_secret_until``."""
    return _secret(svc.rotate_secret(ctx, subscription_id), response)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(subscription_id: UUID, ctx: Admin, svc: WebhookServiceDep) -> Response:
    """Remove the subscription and its deliveries."""
    svc.delete(ctx, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookReplayed,
)
def redeliver(
    subscription_id: UUID, delivery_id: UUID, ctx: Admin, svc: WebhookServiceDep
) -> WebhookReplayed:
    """Send one delivery again, with the same ``webhook-id``."""
    svc.redeliver(ctx, subscription_id, delivery_id)
    return WebhookReplayed(deliveries=1)


@router.post(
    "/{subscription_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookReplayed,
)
def replay(
    subscription_id: UUID,
    ctx: Admin,
    svc: WebhookServiceDep,
    from_position: Annotated[int, Query(ge=0, le=POSITION_MAX)],
    to_position: Annotated[int | None, Query(ge=0, le=POSITION_MAX)] = None,
) -> WebhookReplayed:
    """Send again every delivery of the subscription whose event position is
    in ``[from_position, to_position]``, in position order per aggregate."""
    count = svc.replay(ctx, subscription_id, from_position, to_position)
    return WebhookReplayed(deliveries=count)
