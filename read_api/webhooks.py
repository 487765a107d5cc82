"""Query routes of webhook subscriptions and their deliveries (tenant
administrators)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

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
from read_api.listing import csv_cell

router = APIRouter(prefix="/webhook-subscriptions", tags=["webhooks"])

Admin = Annotated[
    CommandContext, Depends(exact_query(context_for(Permission.WEBHOOK_MANAGE)))
]
Limit = Annotated[int, Query(ge=1, le=200, description="Rows per page")]
Format = Annotated[
    Literal["json", "csv"],
    Query(description="`csv` downloads every row (no cursor or limit)"),
]
CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


def _csv(model: type[BaseModel], rows: Sequence[BaseModel], name: str) -> Response:
    """``rows`` as CSV, one column per field of ``model``."""
    columns = list(model.model_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(getattr(row, c)) for c in columns])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get(
    "",
    response_model=WebhookSubscriptionPage,
    dependencies=[ALWAYS_CURRENT],
    responses=CSV_ANSWER,
)
def list_subscriptions(
    ctx: Admin,
    svc: WebhookServiceDep,
    cursor: Annotated[UUID | None, Query(description="`next_cursor` of a page")] = None,
    limit: Limit = 50,
    format: Format = "json",
) -> WebhookSubscriptionPage | Response:
    """The tenant's webhook subscriptions, newest first, a page at a time
    (or all of them as CSV)."""
    if format == "csv":
        every, after = [], None
        while True:
            page, after = svc.subscriptions(ctx, after, 200)
            every += [WebhookSubscriptionPublic.of(s) for s in page]
            if after is None:
                break
        return _csv(WebhookSubscriptionPublic, every, "webhook-subscriptions")
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
    responses=CSV_ANSWER,
)
def list_deliveries(
    subscription_id: UUID,
    ctx: Admin,
    svc: WebhookServiceDep,
    cursor: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="`next_cursor` of a page")
    ] = None,
    limit: Limit = 50,
    format: Format = "json",
) -> WebhookDeliveryPage | Response:
    """Deliveries of the subscription, newest event first, each with every
    attempt (status, latency, response code, error); or all as CSV."""
    if format == "csv":
        every: list[WebhookDeliveryPublic] = []
        before = None
        while True:
            found = svc.deliveries(ctx, subscription_id, before, 500)
            every += [WebhookDeliveryPublic.of(d) for d in found]
            if len(found) < 500:
                break
            before = found[-1].position
        return _csv(WebhookDeliveryPublic, every, "webhook-deliveries")
    found = svc.deliveries(ctx, subscription_id, cursor, limit + 1)
    items = found[:limit]
    more = len(found) > limit
    return WebhookDeliveryPage(
        items=[WebhookDeliveryPublic.of(d) for d in items],
        next_cursor=str(items[-1].position) if more and items else None,
    )
