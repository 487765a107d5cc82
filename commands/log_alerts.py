"""Recording the log watcher's alerts as security events in the tenant's log.

The watcher (``infra.eventlog.watch``) calls :meth:`LogAlertService.record`
for every open alert not yet recorded; the event's id is derived from the
alert's number, so a second call (a retry after a crash, a second watcher)
finds it recorded and appends nothing. An operator's resolution is
recorded by :meth:`LogAlertService.resolve` as ``event_log.alert_resolved``.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.errors import ConcurrentWriteError
from commands.ports import EventStore
from domain.events import EventMeta
from domain.log_alert import LogAlert, log_alert_id
from domain.principal import Principal

WATCHER = "system:event-log"
"""The actor the watcher's events name."""


@dataclass(frozen=True)
class DetectedMismatch:
    """One alert to record.

    Attributes:
        alert_id: The alert's number.
        tenant_id: The tenant whose chain is broken.
        position: The first bad position.
        problem: What is wrong.
        detail: The verifier's detail.
        segment: First and last position of the segment verified.
    """

    alert_id: int
    tenant_id: str
    position: int | None
    problem: str
    detail: str
    segment: tuple[int, int | None]


class LogAlertService:
    """Application service appending :class:`LogAlert` events."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def record(self, alert: DetectedMismatch) -> bool:
        """Append the alert's ``event_log.mismatch_detected`` event to its
        tenant's log; False when it was recorded before.

        Raises:
            DependencyUnavailableError: the event store cannot be reached.
        """
        principal = Principal.for_system(alert.tenant_id, WATCHER)
        correlation = f"log-alert-{alert.alert_id}"
        record = LogAlert.detect(
            EventMeta.of(principal, correlation),
            alert.alert_id,
            alert.position,
            alert.problem,
            alert.detail,
            alert.segment,
        )
        try:
            self._store.append(record)
        except ConcurrentWriteError:
            return False
        return True

    def resolve(self, tenant_id: str, alert_id: int, operator: str) -> bool:
        """Append the alert's ``event_log.alert_resolved`` event, naming
        ``operator``; False when the alert has no security event (none was
        recorded) or is resolved already.

        Raises:
            DependencyUnavailableError: the event store cannot be reached.
        """
        record = self._store.load(LogAlert, log_alert_id(alert_id))
        if record is None or record.resolved or record.tenant_id != tenant_id:
            return False
        principal = Principal.for_system(tenant_id, operator)
        record.resolve(EventMeta.of(principal, f"log-alert-{alert_id}-resolved"))
        try:
            self._store.append(record)
        except ConcurrentWriteError:
            return False
        return True
