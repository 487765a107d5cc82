"""The contract every projection fulfils, and what the runner promises it.

A projection turns public events into read-model changes through a store
port of its own. The runner (``infra.projection.runner``) calls :meth:`Projection.apply`
inside one Postgres transaction that also records the runner's tracking
position, so each event's effect is applied exactly once although Kafka
delivers at least once. Projections must not assume any order across
aggregates; one aggregate's events arrive in version order.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from projections.envelope import EventEnvelope
from projections.rows import Rows, Table

S_contra = TypeVar("S_contra", contravariant=True)


class Projection(Protocol[S_contra]):
    """Read-model logic for one consumer group.

    Attributes:
        name: Stable name; also the Kafka consumer group's suffix and the
            tracking key. Renaming it starts the projection from scratch.
    """

    name: str

    def apply(self, event: EventEnvelope, store: S_contra) -> None:
        """Apply ``event`` through ``store``; ignore types it does not handle.

        Raising aborts the transaction: neither the change nor the tracking
        position is written, and the event is delivered again.
        """
        ...


class TableProjection(Projection[Rows], Protocol):
    """A projection that keeps rows in declared tables (see ``projections.rows``).

    Its tables live in a schema of its own, so that a rebuild can fill fresh
    tables while the current ones serve, then swap them in one transaction.

    Attributes:
        tables: The shape of every table it writes.
    """

    tables: tuple[Table, ...]
