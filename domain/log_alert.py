"""An alert of the log watcher, recorded as a security event in the tenant's
own log: its hash chain failed to verify.

Each alert (one row of the watcher's alert table) is one :class:`LogAlert`,
its id derived from the alert's number (:func:`log_alert_id`), so recording
it twice conflicts instead of making two: a watch round that finds the same
mismatch again records nothing.

The event is appended after the tenant's chain head like any other event: it
chains to the stored head hash, so it neither repairs nor hides the break
(the verifier still names the first bad position, which lies before it) and
adds no second break after it.

An operator's resolution (``assurehub log-alerts resolve``) is recorded as
:class:`LogAlert.Resolved`, naming the operator as its actor; the operator's
note is free text that may name people, so it stays with the alert row and
out of the event.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import RuleViolationError
from domain.events import EventMeta

DETAIL_MAX = 2000
"""Longest description of what is wrong (longer ones are cut, marked ``…``)."""


def log_alert_id(alert_id: int) -> UUID:
    """The id of the aggregate recording alert number ``alert_id``."""
    return uuid5(NAMESPACE_URL, f"assurehub:log-alert:{alert_id}")


class LogAlert(Aggregate):
    """One mismatch found in a tenant's hash-chained event log."""

    class Event(Aggregate.Event):
        """Base of LogAlert events."""

        TYPE: ClassVar[str]
        PERSONAL: ClassVar[frozenset[str]] = frozenset()
        meta: EventMeta

    class MismatchDetected(Event, Aggregate.Created):
        """The log watcher found the tenant's chain broken."""

        TYPE = "event_log.mismatch_detected"
        alert_id: int
        """The alert's number (``assurehub log-alerts list``)."""
        position: int | None
        """The first bad position the verifier named."""
        problem: str
        """What is wrong: ``payload altered``, ``event missing``, ``event
        inserted``, ``order changed``, ``signature invalid``, …"""
        detail: str
        segment_from: int
        """The first position of the segment verified."""
        segment_to: int | None
        """The last position of the segment verified: the tenant's chain head
        when it was verified (``None``: unknown)."""

    class Resolved(Event):
        """An operator resolved the alert."""

        TYPE = "event_log.alert_resolved"
        alert_id: int

        def apply(self, aggregate: LogAlert) -> None:
            aggregate.resolved = True

    def __init__(
        self,
        meta: EventMeta,
        alert_id: int,
        position: int | None,
        problem: str,
        detail: str,
        segment_from: int,
        segment_to: int | None,
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.alert_id = alert_id
        self.position = position
        self.problem = problem
        self.detail = detail
        self.segment_from = segment_from
        self.segment_to = segment_to
        self.resolved = False

    @classmethod
    def detect(
        cls,
        meta: EventMeta,
        alert_id: int,
        position: int | None,
        problem: str,
        detail: str,
        segment: tuple[int, int | None],
    ) -> LogAlert:
        """The record of alert ``alert_id`` (its detail cut to its bound)."""
        if len(detail) > DETAIL_MAX:
            detail = detail[: DETAIL_MAX - 1] + "…"
        return cls._create(
            cls.MismatchDetected,
            id=log_alert_id(alert_id),
            meta=meta,
            alert_id=alert_id,
            position=position,
            problem=problem,
            detail=detail,
            segment_from=segment[0],
            segment_to=segment[1],
        )

    def resolve(self, meta: EventMeta) -> None:
        """Record that an operator resolved the alert.

        Raises:
            RuleViolationError: the alert is resolved already.
        """
        if self.resolved:
            raise RuleViolationError(
                "log_alert.resolved_once", f"alert {self.alert_id} is resolved"
            )
        self.trigger_event(self.Resolved, meta=meta, alert_id=self.alert_id)
