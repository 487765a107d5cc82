"""Wire models of history entries: an aggregate's events and the tenant's
trail, each event in its public JSON with who made the change."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from read_api.schemas.rows import examples

HISTORY_CURSOR_EXAMPLE = "12"
ENTRY_EXAMPLE: dict[str, Any] = {
    "position": 48213,
    "version": 12,
    "id": "0d5e4c1b-7a2f-5b3e-9c8d-1f2e3d4c5b6a",
    "type": "audit.finding_raised",
    "public_type": "assurehub.audit.finding_raised.v1",
    "schema_version": 1,
    "stored_schema_version": 1,
    "recorded_at": "2026-03-02T09:41:07.120000+00:00",
    "aggregate_type": "audit",
    "aggregate_id": "3f1c2b7e-9a4d-4c1e-8b2f-6d5e4c3b2a19",
    "actor": {"id": "7d6c5b4a-3928-4f1e-8d0c-b9a8f7e6d5c4", "name": "Ana Auditor"},
    "correlation_id": "5b0e1f3a-2c4d-4e6f-8a9b-0c1d2e3f4a5b",
    "causation_id": "5b0e1f3a-2c4d-4e6f-8a9b-0c1d2e3f4a5b",
    "data": {
        "finding_id": "9e8d7c6b-5a49-4f3e-8d2c-1b0a9f8e7d6c",
        "clause_id": "8.5.1",
        "grade": "minor",
        "statement": "Calibration records of two gauges were missing.",
    },
    "redacted": [],
}


EventValue = TypeAliasType(
    "EventValue",
    "str | int | float | bool | list[EventValue] | dict[str, EventValue] | None",
)
"""A value of an event's public JSON."""


class HistoryActor(BaseModel):
    """Who caused the event."""

    id: str = Field(description="Account id, or a processor (`system:…`)")
    name: str | None = Field(
        description="The account's display name (null for processors, and for "
        "other people unless the caller may see personal data)"
    )


class HistoryEntry(BaseModel):
    """One event of an aggregate or of the tenant, as the stream publishes it."""

    model_config = ConfigDict(json_schema_extra=examples(ENTRY_EXAMPLE))

    position: int = Field(description="Global position in the event store")
    version: int = Field(description="Version of the aggregate after the event")
    id: str = Field(description="Stable event id (the CloudEvent's `id`)")
    type: str = Field(description="Event type, as the `type` filter takes it")
    public_type: str = Field(description="`assurehub.<type>.v<schema_version>`")
    schema_version: int = Field(description="Schema version `data` is shaped by")
    stored_schema_version: int = Field(
        description="Schema version the event was stored at; older events are "
        "upcast to the current shape"
    )
    recorded_at: str = Field(description="When the event was recorded (RFC 3339)")
    aggregate_type: str
    aggregate_id: str
    actor: HistoryActor
    correlation_id: str = Field(description="Request the change started with")
    causation_id: str = Field(description="Message that directly caused it")
    data: dict[str, EventValue] = Field(
        description="The event's public JSON (`docs/events/<public_type>.json`)"
    )
    redacted: list[str] = Field(
        description="Personal fields (`x-personal`) answered null because they "
        "are another person's and the caller may not see personal data"
    )


class HistoryPage(BaseModel):
    """A page of events, oldest first."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {"items": [ENTRY_EXAMPLE], "next_cursor": HISTORY_CURSOR_EXAMPLE}
        )
    )

    items: list[HistoryEntry]
    next_cursor: str | None = Field(
        description="Send as `cursor` (with the same filters) for the next page; "
        "null on the last page"
    )
