"""The one way a command changes an aggregate: authorize, load within the
caller's tenant, check the expected version, decide, append.

Without an expected version a lost race is retried on fresh state (the
decision is made again); with one, the conflict is the caller's to resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from eventsourcing.domain import Aggregate

from commands.context import Accepted, CommandContext
from commands.errors import ConcurrentWriteError
from commands.ports import EventStore
from domain.access import Permission, authorize
from domain.errors import NotFoundError, VersionConflictError

MAX_ATTEMPTS = 3


class TenantAggregate(Protocol):
    """What the handler needs of an aggregate: its tenant."""

    tenant_id: str


A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")


class AggregateHandler:
    """Runs commands against one event store."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def create(
        self, ctx: CommandContext, permission: Permission, build: Callable[[], A]
    ) -> Accepted:
        """Authorize, build a new aggregate and append its events."""
        authorize(ctx.principal, permission)
        aggregate = build()
        position = self.store.append(aggregate)
        return Accepted(aggregate.id, aggregate.version, position)

    def load(self, ctx: CommandContext, kind: type[A], aggregate_id: object) -> A:
        """The aggregate, if it exists in the caller's tenant.

        Raises:
            NotFoundError: unknown, of another kind, or another tenant's.
        """
        aggregate = self.store.load(kind, aggregate_id)  # type: ignore[arg-type]
        if aggregate is None or getattr(aggregate, "tenant_id", None) != (
            ctx.principal.tenant_id
        ):
            raise NotFoundError(_kind_name(kind), aggregate_id)
        return aggregate

    def change(
        self,
        ctx: CommandContext,
        permission: Permission,
        kind: type[A],
        aggregate_id: object,
        expected_version: int | None,
        decide: Callable[[A], R],
        *,
        visible: Callable[[A], bool] = lambda _: True,
    ) -> tuple[A, int, R]:
        """Load, check, decide and append; return the aggregate, the position
        of its last event and what ``decide`` returned."""
        authorize(ctx.principal, permission)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            aggregate = self.load(ctx, kind, aggregate_id)
            if not visible(aggregate):
                raise NotFoundError(_kind_name(kind), aggregate_id)
            if expected_version is not None and aggregate.version != expected_version:
                raise VersionConflictError(
                    aggregate.id, expected_version, aggregate.version
                )
            outcome = decide(aggregate)
            try:
                return aggregate, self.store.append(aggregate), outcome
            except ConcurrentWriteError:
                if expected_version is not None:
                    current = self.load(ctx, kind, aggregate_id).version
                    raise VersionConflictError(
                        aggregate.id, expected_version, current
                    ) from None
                if attempt == MAX_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def accept(
        self,
        ctx: CommandContext,
        permission: Permission,
        kind: type[A],
        aggregate_id: object,
        expected_version: int | None,
        decide: Callable[[A], object],
    ) -> Accepted:
        """:meth:`change`, answered the way every command answers."""
        aggregate, position, _ = self.change(
            ctx, permission, kind, aggregate_id, expected_version, decide
        )
        return Accepted(aggregate.id, aggregate.version, position)


def _kind_name(kind: type[object]) -> str:
    name = kind.__name__
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
