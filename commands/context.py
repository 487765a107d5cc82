"""What every command receives besides its own fields, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID

from commands.ports import Idempotency
from domain.events import EventMeta
from domain.principal import Principal


@dataclass(frozen=True)
class CommandContext:
    """The caller and the request a command runs in.

    Attributes:
        principal: The caller, built at the HTTP edge.
        correlation_id: The request id, carried into every event's metadata.
    """

    principal: Principal
    correlation_id: str
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    """The calendar date commands record (UTC until tenants set a time zone)."""
    idempotency: Idempotency | None = None
    """The client's Idempotency-Key for this command, if it sent one."""
    traceparent: str = ""
    """The request's W3C trace context, carried into every event's metadata."""

    def meta(self) -> EventMeta:
        """Event metadata for events this command causes."""
        return EventMeta.of(
            self.principal, self.correlation_id, traceparent=self.traceparent
        )


@dataclass(frozen=True)
class Accepted:
    """The answer every accepted command shares.

    Attributes:
        id: The aggregate the command changed.
        version: The aggregate's version after the command.
        position: Global position of the last event written; a query can ask
            to be answered only once its read model has reached it.
    """

    id: UUID
    version: int
    position: int
