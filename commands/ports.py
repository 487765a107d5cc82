"""Ports the command services need; adapters live in ``infra``."""

from __future__ import annotations

from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)


class EventStore(Protocol):
    """Loads aggregates from their events and appends new ones.

    Adapters map their driver's failures: a lost optimistic-concurrency race
    becomes :class:`~commands.errors.ConcurrentWriteError`, an unreachable
    database an infrastructure error the HTTP edge turns into 503.
    """

    def load(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate rebuilt from its events, or ``None`` when unknown
        (or of another kind)."""
        ...

    def append(self, aggregate: Aggregate) -> int:
        """Append the aggregate's pending events in one transaction.

        Returns:
            The global position of the last event appended.

        Raises:
            ConcurrentWriteError: another writer appended those versions first.
        """
        ...
