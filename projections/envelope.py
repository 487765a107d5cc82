"""The public form of an event, as consumers of the stream see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class EventEnvelope:
    """One event at its current schema version, with its CloudEvents context.

    Attributes:
        id: Stable id of the event (``ce_id``); the same on every redelivery.
        type: Versioned public type, e.g. ``assurehub.organization.renamed.v1``.
        source: ``ce_source``, the producing system.
        subject: Id of the aggregate the event belongs to (``ce_subject``).
        time: When the event was recorded.
        tenant_id: Tenant the event belongs to.
        position: Global position in the event store.
        aggregate_version: Version of the aggregate after this event.
        actor_id: Who issued the command.
        correlation_id: Request the work started with.
        causation_id: Message that directly caused the event.
        data: The event's own facts (public JSON).
        traceparent: W3C trace context of the request that caused it
            (``ce_traceparent``; empty: none).
    """

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    tenant_id: str
    position: int
    aggregate_version: int
    actor_id: str
    correlation_id: str
    causation_id: str
    data: dict[str, Any]
    traceparent: str = ""
