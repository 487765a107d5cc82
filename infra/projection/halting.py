"""Halting a projection that met a record it could neither apply nor park.

The halt is recorded in a transaction of its own (the batch's was rolled
back) by :mod:`infra.postgres.projection_halts`; the runner then leaves its
group and waits, beating its heartbeat so that it is not restarted in a
loop, until an operator clears the halt (``assurehub projections resume
NAME``, or a rebuild of the projection).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from infra.errors import InfrastructureError
from infra.postgres import projection_halts
from infra.postgres.dead_letters import DeadLetter
from infra.postgres.pool import Database
from infra.postgres.projection_halts import Halt

log = logging.getLogger("infra.projection.runner")


class ProjectionStoppedError(InfrastructureError):
    """The projection is halted (a record could be neither applied nor
    parked): it consumes nothing until the halt is cleared."""

    def __init__(self, projection: str, reason: str) -> None:
        super().__init__(f"projection {projection} is halted: {reason}")
        self.projection = projection
        self.reason = reason


def halt(database: Database, dead: DeadLetter, cause: BaseException | None) -> str:
    """Record that ``dead``'s projection halts at it, since writing ``dead``
    failed with ``cause``; return the reason recorded."""
    where = f"{dead.origin.topic}:{dead.origin.partition}@{dead.origin.offset}"
    reason = (
        f"record {dead.event_id} ({dead.event_type or 'type unreadable'},"
        f" {where}) could be neither applied nor parked: parking failed"
        f" with {type(cause).__name__}: {cause}; not applied because"
        f" {dead.error}"
    )
    with database.connection() as conn, conn.transaction():
        projection_halts.halt(
            conn, Halt(dead.projection, reason, dead.event_id, dead.origin)
        )
    return reason


def wait_while_halted(
    database: Database,
    projection: str,
    stop: threading.Event,
    beat: Callable[[], None],
    poll_seconds: float,
) -> None:
    """Beat, and look every ``poll_seconds`` whether the halt of
    ``projection`` is gone; return when it is (or ``stop`` is set)."""
    while not stop.is_set():
        beat()
        with database.connection() as conn:
            if projection_halts.halt_of(conn, projection) is None:
                log.warning("projection resumed", extra={"projection": projection})
                return
        stop.wait(poll_seconds)
