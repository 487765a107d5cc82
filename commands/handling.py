"""The one way a command changes an aggregate: authorize, load within the
caller's tenant, check the expected version, decide, append.

Without an expected version a lost race is retried on fresh state (the
decision is made again); with one, the conflict is the caller's to resolve.
With an ``Idempotency-Key`` the answer is recorded in the transaction that
appends the events (a command that changes nothing records it alone, with
the position it answers without a key: the head of the store); a retry with
the same key and request gets that answer back and writes nothing, a retry
with another request is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from commands.context import Accepted, CommandContext
from commands.errors import (
    ConcurrentWriteError,
    DuplicateIdempotencyKeyError,
    IdempotencyKeyReusedError,
)
from commands.ports import JSON, Claim, EventStore, IndexEntry, SideWrites
from domain.access import Permission, authorize
from domain.errors import NotFoundError, VersionConflictError

if TYPE_CHECKING:  # the identity services import this module
    from commands.identity.ports import IdentityRecord

MAX_ATTEMPTS = 3

A = TypeVar("A", bound=Aggregate)


def _json(value: object) -> JSON:
    """The outcome of a decision as JSON (ids as strings)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"a command outcome must be JSON-like, got {value!r}")


class AggregateHandler:
    """Runs commands against one event store."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def create(
        self,
        ctx: CommandContext,
        permission: Permission,
        build: Callable[[], A],
        index: Callable[[A], Sequence[IndexEntry]] = lambda _: (),
    ) -> Accepted:
        """Authorize, build a new aggregate and append its events (with the
        index entries that make it findable)."""
        authorize(ctx.principal, permission)
        replay = self.replay(ctx)
        if replay is not None:
            return replay[0]
        aggregate = build()
        return self.commit(ctx, aggregate, index=index(aggregate))[0]

    def load(self, ctx: CommandContext, kind: type[A], aggregate_id: UUID) -> A:
        """The aggregate, if it exists in the caller's tenant.

        Raises:
            NotFoundError: unknown, of another kind, or another tenant's.
        """
        aggregate = self.store.load(kind, aggregate_id)
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
        aggregate_id: UUID,
        expected_version: int | None,
        decide: Callable[[A], object],
        *,
        visible: Callable[[A], bool] = lambda _: True,
    ) -> tuple[Accepted, JSON]:
        """Load, check, decide and append; return the answer and what
        ``decide`` returned (as JSON)."""
        authorize(ctx.principal, permission)
        return self.change_authorized(
            ctx, kind, aggregate_id, expected_version, decide, visible=visible
        )

    def change_authorized(
        self,
        ctx: CommandContext,
        kind: type[A],
        aggregate_id: UUID,
        expected_version: int | None,
        decide: Callable[[A], object],
        *,
        visible: Callable[[A], bool] = lambda _: True,
    ) -> tuple[Accepted, JSON]:
        """:meth:`change` for a caller the service authorized itself (a
        system caller, which holds no role)."""
        replay = self.replay(ctx)
        if replay is not None:
            return replay
        for attempt in range(1, MAX_ATTEMPTS + 1):
            aggregate = self.load(ctx, kind, aggregate_id)
            if not visible(aggregate):
                raise NotFoundError(_kind_name(kind), aggregate_id)
            if expected_version is not None and aggregate.version != expected_version:
                raise VersionConflictError(
                    aggregate.id, expected_version, aggregate.version
                )
            outcome = _json(decide(aggregate))
            try:
                return self.commit(ctx, aggregate, outcome=outcome)
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
        aggregate_id: UUID,
        expected_version: int | None,
        decide: Callable[[A], object],
    ) -> Accepted:
        """:meth:`change`, answered the way every command answers."""
        return self.change(
            ctx, permission, kind, aggregate_id, expected_version, decide
        )[0]

    def commit(
        self,
        ctx: CommandContext,
        *aggregates: Aggregate,
        outcome: JSON = None,
        index: Sequence[IndexEntry] = (),
        claims: Sequence[Claim] = (),
        records: Sequence[IdentityRecord] = (),
    ) -> tuple[Accepted, JSON]:
        """Append every aggregate's events with the command's side records in
        one transaction; answer for the first aggregate.

        Raises:
            ConcurrentWriteError: another writer appended to one of them first.
            ClaimTakenError: another aggregate holds one of ``claims``.
            SideRecordRefusedError: a conditional one of ``records`` was refused.
        """
        side = SideWrites(
            idempotency=ctx.idempotency,
            outcome=outcome,
            index=tuple(index),
            claims=tuple(claims),
            records=tuple(records),
        )
        try:
            position = self.store.append(*aggregates, side=side)
        except DuplicateIdempotencyKeyError:
            replay = self.replay(ctx)
            if replay is None:  # pragma: no cover - the key was just recorded
                raise
            return replay
        first = aggregates[0]
        return Accepted(first.id, first.version, position), outcome

    def replay(self, ctx: CommandContext) -> tuple[Accepted, JSON] | None:
        """The recorded answer if this command was already handled under its
        idempotency key.

        Raises:
            IdempotencyKeyReusedError: the key was used with another request.
        """
        idempotency = ctx.idempotency
        if idempotency is None:
            return None
        answer = self.store.recorded_answer(idempotency.tenant_id, idempotency.key)
        if answer is None:
            return None
        if answer.fingerprint != idempotency.fingerprint:
            raise IdempotencyKeyReusedError(idempotency.key)
        accepted = Accepted(answer.aggregate_id, answer.version, answer.position)
        return accepted, answer.outcome


def _kind_name(kind: type[object]) -> str:
    name = kind.__name__
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
