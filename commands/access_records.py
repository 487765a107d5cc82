"""Recording reads of the past: who looked at history, an as-of state, the
tenant's trail or a document's file.

The read API records each such read by staff before it answers (see
``read_api.access_recording``); a read that cannot be recorded is not
answered, so the record holds every read that was.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.ports import EventStore
from domain.access_record import AccessRecord
from domain.events import EventMeta
from domain.principal import Principal


@dataclass(frozen=True)
class RecordRead:
    """One read to record.

    Attributes:
        route: The route template, as ``GET /audits/{audit_id}/history``.
        path: The path requested.
        query: The query string requested.
        resource: ``(type, id)`` of the thing read, if the route names one.
        address: The caller's network address.
    """

    route: str
    path: str
    query: str
    resource: tuple[str, str] | None
    address: str | None


class AccessRecordService:
    """Application service recording reads as :class:`AccessRecord` events."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def record_read(
        self, principal: Principal, correlation_id: str, cmd: RecordRead
    ) -> int:
        """Record that ``principal`` read what ``cmd`` names; return the
        event's position.

        Raises:
            DependencyUnavailableError: the event store cannot be reached.
        """
        record = AccessRecord.record(
            EventMeta.of(principal, correlation_id),
            cmd.route,
            cmd.path,
            cmd.query,
            cmd.resource,
            cmd.address,
        )
        return self._store.append(record)
