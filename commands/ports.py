"""Ports the command services need; adapters live in ``infra``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)


JSON = str | int | float | bool | None | list["JSON"] | dict[str, "JSON"]


@dataclass(frozen=True)
class Idempotency:
    """A client's ``Idempotency-Key`` for one command.

    Attributes:
        tenant_id: Keys are scoped to the tenant.
        key: The client's key.
        fingerprint: Digest of the request (method, path, body); the same key
            with another fingerprint is refused.
    """

    tenant_id: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class RecordedAnswer:
    """What a command answered, recorded atomically with its events."""

    fingerprint: str
    aggregate_id: UUID
    version: int
    position: int
    outcome: JSON


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

    def append(
        self,
        aggregate: Aggregate,
        idempotency: Idempotency | None = None,
        outcome: JSON = None,
    ) -> int:
        """Append the aggregate's pending events in one transaction, with the
        idempotency key and the command's outcome if given.

        Returns:
            The global position of the last event appended.

        Raises:
            ConcurrentWriteError: another writer appended those versions first.
            DuplicateIdempotencyKeyError: the key was recorded meanwhile.
        """
        ...

    def recorded_answer(self, tenant_id: str, key: str) -> RecordedAnswer | None:
        """The answer recorded with an idempotency key, if any."""
        ...
