"""Query routes of notifications: preferences, and what was sent."""

from __future__ import annotations

import base64
import json
from collections.abc import Generator
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict

from commands.context import CommandContext
from commands.http.deps import NotificationPreferencesServiceDep
from commands.http.edge import context_for
from commands.http.notification_preferences import (
    NotificationPreferencesPublic,
    preferences_public,
)
from domain.access import Permission
from domain.notifications import NotificationKind
from projections.listing import InvalidCursorError
from read_api.consistency import ALWAYS_CURRENT
from read_api.exact_query import exact_query
from read_api.listing import CsvResponse
from read_api.schemas.rows import Page, page_examples

router = APIRouter(tags=["notifications"])

CSV_MAX_ROWS = 10_000

Self = Annotated[
    CommandContext,
    Depends(exact_query(context_for(Permission.SELF_SERVICE, idempotent=False))),
]
Admin = Annotated[
    CommandContext,
    Depends(exact_query(context_for(Permission.TENANT_SETTINGS_MANAGE))),
]
Reader = Annotated[
    CommandContext, Depends(exact_query(context_for(Permission.NOTIFICATION_READ)))
]


class NotificationPublic(BaseModel):
    """One queued notification (its text is not shown)."""

    message_id: UUID
    kind: str | None
    recipient: str
    subject: str
    status: Literal["queued", "sent", "failed"]
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class NotificationPage(Page[NotificationPublic]):
    """The tenant's notifications, newest first."""

    model_config = ConfigDict(
        json_schema_extra=page_examples(
            {
                "message_id": "6f1c9a8e-2b7d-4c3e-9a10-5d4e3f2a1b0c",
                "kind": "finding_raised",
                "recipient": "carla@client.test",
                "subject": "New finding against clause 7.1 (ISO 9001)",
                "status": "failed",
                "attempts": 10,
                "last_error": "MailDeliveryError: 550 mailbox unknown",
                "created_at": "2026-12-01T08:00:00Z",
                "sent_at": None,
            }
        )
    )


@router.get(
    "/me/notification-preferences",
    response_model=NotificationPreferencesPublic,
    dependencies=[ALWAYS_CURRENT],
)
def my_preferences(
    ctx: Self, svc: NotificationPreferencesServiceDep
) -> NotificationPreferencesPublic:
    """Which notifications you receive (the tenant's defaults where you have
    not chosen), and your e-mails' language."""
    return preferences_public(svc.mine(ctx))


@router.get(
    "/notification-preferences/defaults",
    response_model=NotificationPreferencesPublic,
    dependencies=[ALWAYS_CURRENT],
)
def default_preferences(
    ctx: Admin, svc: NotificationPreferencesServiceDep
) -> NotificationPreferencesPublic:
    """The tenant's default notification preferences (tenant administrators)."""
    return preferences_public(svc.defaults(ctx))


@router.get(
    "/notifications",
    response_model=NotificationPage,
    dependencies=[ALWAYS_CURRENT],
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def list_notifications(
    ctx: Reader,
    svc: NotificationPreferencesServiceDep,
    status: Literal["queued", "sent", "failed"] | None = None,
    kind: NotificationKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: Literal["json", "csv"] = "json",
) -> NotificationPage | Response:
    """What was queued, sent or given up (``failed``, with the last error),
    newest first (tenant administrators). The e-mails' text is not shown.
    ``format=csv`` downloads the newest matching messages (at most
    ``CSV_MAX_ROWS``; no cursor or limit)."""
    if format == "csv":
        found = svc.sent(ctx, status, kind, CSV_MAX_ROWS)
        valid = NotificationPublic.model_validate
        rows = [valid(n, from_attributes=True).model_dump() for n in found]
        columns = list(NotificationPublic.model_fields)
        return CsvResponse(columns, rows or None, _no_more(), "notifications.csv")
    found = svc.sent(ctx, status, kind, limit + 1, _decoded(cursor))
    valid = NotificationPublic.model_validate
    items = [valid(n, from_attributes=True) for n in found[:limit]]
    last = items[-1] if len(found) > limit else None
    return NotificationPage(
        items=items, next_cursor=None if last is None else _encoded(last)
    )


def _no_more() -> Generator[list[dict[str, Any]], None, None]:
    yield from ()


def _encoded(last: NotificationPublic) -> str:
    raw = json.dumps([last.created_at.isoformat(), str(last.message_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decoded(cursor: str | None) -> tuple[datetime, UUID] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, message = json.loads(raw)
        moment = datetime.fromisoformat(str(at))
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment, UUID(str(message))
    except (ValueError, TypeError, OverflowError) as e:
        raise InvalidCursorError("cursor", "cursor is not one this API issued") from e
