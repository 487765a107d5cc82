"""Commands on audits and their findings."""

from __future__ import annotations

from commands.handling import AggregateHandler
from commands.ports import EventStore


class AuditService:
    """Application service whose methods are the audit commands."""

    def __init__(self, store: EventStore) -> None:
        self._handler = AggregateHandler(store)
