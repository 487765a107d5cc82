"""What a history or trail read asks for: filters and a keyset page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class HistoryQuery:
    """Filters and page of a history (keyed by version) or trail (by position).

    Attributes:
        types: Public event types without prefix or version
            (``audit.planned``); empty means every type.
        recorded_from: Only events recorded at or after this time.
        recorded_to: Only events recorded before this time.
        actor: Only events caused by this actor id.
        aggregate_types: Trail only: ``audit``, ``certificate``, … (empty: all).
        aggregate_id: Trail only: one aggregate's events.
        after: The key of the last event already read (0: from the start).
        limit: Most events answered (``None``: every matching event).
    """

    types: tuple[str, ...] = ()
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    actor: str | None = None
    aggregate_types: tuple[str, ...] = ()
    aggregate_id: UUID | None = None
    after: int = 0
    limit: int | None = None
