"""One batch's bookkeeping inside its transaction, and what it logs.

A batch knows, per partition, how far the projection had got (position and
Kafka offset) and how far it gets now; which aggregates have a parked event
(their later events wait behind it); and what it applied, parked and skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from infra.postgres.dead_letters import DeadLetter
from infra.projection.parking import Delivery

log = logging.getLogger("infra.projection.runner")


@dataclass(frozen=True)
class StepResult:
    applied: int
    skipped: int
    parked: int = 0


@dataclass
class Batch:
    """One batch's bookkeeping inside its transaction."""

    tracked: dict[int, tuple[int, int]]
    """Per partition, the (position, Kafka offset) applied so far."""
    waiting: set[str]
    """Subjects with a parked event: their later events are parked too."""
    halted: set[str]
    latest: dict[int, tuple[int, int]] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    parked: list[DeadLetter] = field(default_factory=list)
    skipped: int = 0
    correlations: set[str] = field(default_factory=set)
    traces: set[str] = field(default_factory=set)
    """The traceparents of the events applied or parked."""

    def _done(self, partition: int) -> tuple[int, int]:
        return self.latest.get(partition) or self.tracked.get(partition, (0, -1))

    def is_new(self, delivery: Delivery) -> bool:
        """Beyond what was applied: by position, or by offset when the
        record does not decode."""
        position, offset = self._done(int(delivery.origin.partition or 0))
        if delivery.tracked_position is None:
            return int(delivery.origin.offset or 0) > offset
        return delivery.tracked_position > position

    def advance(self, delivery: Delivery) -> None:
        partition = int(delivery.origin.partition or 0)
        position, _ = self._done(partition)
        if delivery.tracked_position is not None:
            position = delivery.tracked_position
        self.latest[partition] = (position, int(delivery.origin.offset or 0))

    def result(self) -> StepResult:
        return StepResult(len(self.applied), self.skipped, len(self.parked))


def log_parked(dead: DeadLetter) -> None:
    """Log a dead-lettered record with everything needed to find it."""
    log.error(
        "event dead-lettered" if dead.state == "parked" else "projection halted",
        extra={
            "projection": dead.projection,
            "state": dead.state,
            "event_id": dead.event_id,
            "event_type": dead.event_type,
            "subject": dead.subject,
            "tenant_id": dead.tenant_id,
            "position": dead.position,
            "partition": dead.origin.partition,
            "offset": dead.origin.offset,
            "error": dead.error,
            "traceback": dead.traceback,
        },
    )
