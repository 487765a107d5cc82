"""Metrics read from Postgres when scraped: the relay's position and lag,
each projection's position, lag, parked and halted events (per partition
too), and the mail outbox's backlog.

They describe the pipeline, not a process, so one query round per scrape
answers for every process; a scrape while Postgres is down yields
``assurehub_state_up 0`` and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from infra.eventstore.store import LibraryEventStore
from infra.postgres.pool import Database
from infra.projection.status import ProjectionStatus, projection_status
from projections.ports import TableProjection

log = logging.getLogger(__name__)

Backlog = Callable[[], tuple[int, float]]


class StateCollector(Collector):
    """Reads the pipeline's state at each scrape."""

    def __init__(
        self,
        database: Database,
        store: LibraryEventStore,
        topic: str,
        projections: tuple[TableProjection, ...],
        outbox_backlog: Backlog,
    ) -> None:
        self._db = database
        self._store = store
        self._topic = topic
        self._projections = projections
        self._backlog = outbox_backlog

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "assurehub_state_up", "1 when the pipeline's state could be read."
        )
        try:
            statuses = projection_status(
                self._db, self._store, self._topic, self._projections
            )
            heads = self._partition_heads()
            pending, oldest = self._backlog()
        except Exception as e:
            log.warning("metrics: state unreadable", extra={"error": str(e)})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _relay(statuses, heads)
        yield from _projections(statuses, heads)
        backlog = GaugeMetricFamily(
            "assurehub_outbox_backlog_messages", "Mail waiting to be sent."
        )
        backlog.add_metric([], pending)
        yield backlog
        age = GaugeMetricFamily(
            "assurehub_outbox_oldest_seconds",
            "Age of the oldest mail waiting to be sent (0: none).",
        )
        age.add_metric([], oldest)
        yield age

    def _partition_heads(self) -> dict[int, int]:
        """Per partition, the relay's last published position."""
        with self._db.connection() as conn:
            rows = conn.execute(
                "SELECT partition, position FROM relay_partition_heads"
                " WHERE topic = %s",
                (self._topic,),
            ).fetchall()
        return {int(p): int(pos) for p, pos in rows}


def _relay(statuses: list[ProjectionStatus], heads: dict[int, int]) -> Iterator[Any]:
    if not statuses:
        return
    first = statuses[0]
    position = GaugeMetricFamily(
        "assurehub_relay_position", "Last position the relay published."
    )
    position.add_metric([], first.relayed)
    head = GaugeMetricFamily(
        "assurehub_store_head_position", "Position of the newest stored event."
    )
    head.add_metric([], first.head)
    lag = GaugeMetricFamily(
        "assurehub_relay_lag_events", "Stored events the relay has not published."
    )
    lag.add_metric([], max(0, first.head - first.relayed))
    partitions = GaugeMetricFamily(
        "assurehub_relay_partition_position",
        "Last position the relay published, per partition.",
        labels=["partition"],
    )
    for p, pos in sorted(heads.items()):
        partitions.add_metric([str(p)], pos)
    yield from (position, head, lag, partitions)


def _projections(
    statuses: list[ProjectionStatus], heads: dict[int, int]
) -> Iterator[Any]:
    by = ["projection"]
    families = {
        "position": GaugeMetricFamily(
            "assurehub_projection_partition_position",
            "Position of the last event a projection applied, per partition.",
            labels=[*by, "partition"],
        ),
        "partition_lag": GaugeMetricFamily(
            "assurehub_projection_partition_lag_positions",
            "Per partition, the relay's last published position minus the"
            " projection's (0: caught up).",
            labels=[*by, "partition"],
        ),
        "reached": GaugeMetricFamily(
            "assurehub_projection_reached_position",
            "Highest position up to which the projection applied everything.",
            labels=by,
        ),
        "lag_events": GaugeMetricFamily(
            "assurehub_projection_lag_events",
            "Stored events after the reached position.",
            labels=by,
        ),
        "lag_seconds": GaugeMetricFamily(
            "assurehub_projection_lag_seconds",
            "Age of the oldest stored event the projection lacks (0: none).",
            labels=by,
        ),
        "parked": GaugeMetricFamily(
            "assurehub_projection_parked_events", "Parked dead letters.", labels=by
        ),
        "halted": GaugeMetricFamily(
            "assurehub_projection_halted",
            "1 while the projection is halted (consumes nothing).",
            labels=by,
        ),
        "rebuild": GaugeMetricFamily(
            "assurehub_projection_needs_rebuild",
            "1 while its tables have another shape than the code.",
            labels=by,
        ),
        "stalled": GaugeMetricFamily(
            "assurehub_projection_stalled",
            "1 while behind and not moving.",
            labels=by,
        ),
    }
    for s in statuses:
        name = [s.projection]
        for p in sorted(set(s.positions) | set(heads)):
            applied = s.positions.get(p, 0)
            families["position"].add_metric([*name, str(p)], applied)
            head = heads.get(p, 0)
            families["partition_lag"].add_metric(
                [*name, str(p)], max(0, head - applied)
            )
        families["reached"].add_metric(name, s.reached)
        families["lag_events"].add_metric(name, s.lag_events)
        families["lag_seconds"].add_metric(name, s.lag_seconds)
        families["parked"].add_metric(name, s.parked)
        families["halted"].add_metric(name, 1 if s.halt is not None else 0)
        families["rebuild"].add_metric(name, 1 if s.needs_rebuild else 0)
        families["stalled"].add_metric(name, 1 if s.stalled else 0)
    yield from families.values()
