"""Webhook subscriptions: the commands of tenant administrators.

A subscription names a target URL, the event types it wants (none: all) and
optionally the client organizations it is limited to. Each has a signing
secret (``whsec_`` + base64, per Standard Webhooks) shown once, when created
or rotated; after a rotation the previous secret keeps signing alongside the
new one for a grace period, so receivers can switch without losing a message.

Subscriptions are configuration that holds a secret, so they are kept in a
side table behind :class:`WebhookStore`, not as events: a secret must never
enter the event log, and the dispatcher pauses a failing subscription far
more often than anyone would want to read in an audit trail.

Targets are checked when saved by a :class:`TargetCheck` (outside
development: ``https`` only, and no name that resolves to a loopback,
private, link-local, CGNAT or metadata address); the dispatcher checks the
resolved address again before each attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID, uuid4

from commands.context import CommandContext
from domain.access import Permission, authorize
from domain.errors import InvalidValueError, NotFoundError

MAX_URL_LENGTH = 2048
MAX_EVENT_TYPES = 100
MAX_ORGANIZATIONS = 100
MAX_DESCRIPTION = 500


@dataclass(frozen=True)
class Subscribe:
    url: str
    event_types: Sequence[str] = ()
    """Public event types (``assurehub.organization.renamed.v1``); empty: all."""
    organization_ids: Sequence[UUID] | None = None
    """Only events of these organizations; ``None``: the whole tenant."""
    description: str = ""


@dataclass(frozen=True)
class Subscription:
    """A subscription as its tenant's administrators see it (no secret)."""

    subscription_id: UUID
    tenant_id: str
    url: str
    event_types: tuple[str, ...]
    organization_ids: tuple[UUID, ...] | None
    description: str
    state: str
    paused_reason: str | None
    created_at: datetime
    updated_at: datetime
    previous_secret_until: datetime | None


@dataclass(frozen=True)
class Delivery:
    """One event owed to a subscription, with its attempts."""

    delivery_id: UUID
    event_id: str
    event_type: str
    aggregate_id: str
    position: int
    state: str
    attempts: tuple[Attempt, ...]
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    """One try at delivering: when, how long, and what came back."""

    attempt: int
    started_at: datetime
    latency_ms: int
    status_code: int | None
    error: str | None


@dataclass(frozen=True)
class Created:
    """A subscription created or its secret rotated: the secret, this once."""

    subscription: Subscription
    secret: str


class WebhookStore(Protocol):
    """Where subscriptions and their deliveries are kept (one tenant's only)."""

    def add(
        self,
        tenant_id: str,
        subscription_id: UUID,
        cmd: Subscribe,
        secret: str,
        by: str,
    ) -> Subscription:
        """Store a new active subscription."""
        ...

    def get(self, tenant_id: str, subscription_id: UUID) -> Subscription | None:
        """The subscription, if the tenant has it."""
        ...

    def page(
        self, tenant_id: str, after: UUID | None, limit: int
    ) -> tuple[list[Subscription], UUID | None]:
        """Subscriptions newest first after the cursor, and the next cursor."""
        ...

    def set_state(
        self, tenant_id: str, subscription_id: UUID, state: str, reason: str | None
    ) -> Subscription | None:
        """Pause or resume; resuming restarts the failure window."""
        ...

    def rotate(
        self, tenant_id: str, subscription_id: UUID, secret: str, grace_seconds: float
    ) -> Subscription | None:
        """Make ``secret`` current; the old one signs for ``grace_seconds``."""
        ...

    def delete(self, tenant_id: str, subscription_id: UUID) -> bool:
        """Remove it with its deliveries."""
        ...

    def deliveries(
        self, tenant_id: str, subscription_id: UUID, before: int | None, limit: int
    ) -> list[Delivery]:
        """Deliveries newest position first, below ``before`` if given."""
        ...

    def redeliver(
        self, tenant_id: str, subscription_id: UUID, delivery_id: UUID
    ) -> bool:
        """Make the delivery due again now."""
        ...

    def replay(
        self, tenant_id: str, subscription_id: UUID, first: int, last: int | None
    ) -> int:
        """Make every delivery with a position in ``[first, last]`` due again."""
        ...


class TargetCheck(Protocol):
    """Whether a target URL may be saved."""

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be a target, or ``None`` if it may."""
        ...


class SecretMint(Protocol):
    """Makes new signing secrets."""

    def __call__(self) -> str:
        """A fresh ``whsec_…`` secret."""
        ...


class WebhookService:
    """Application service whose methods are the webhook commands.

    Args:
        store: Subscriptions and deliveries.
        targets: Checks target URLs.
        mint: Makes secrets.
        known_types: Every public event type a subscription may name.
        grace_seconds: How long a rotated-out secret keeps signing.
    """

    def __init__(
        self,
        store: WebhookStore,
        targets: TargetCheck,
        mint: SecretMint,
        known_types: frozenset[str],
        grace_seconds: float,
    ) -> None:
        self._store = store
        self._targets = targets
        self._mint = mint
        self._known = known_types
        self._grace = grace_seconds

    def subscribe(self, ctx: CommandContext, cmd: Subscribe) -> Created:
        """Create a subscription of the caller's tenant.

        Raises:
            InvalidValueError: ``url`` (shape, scheme, address),
                ``event_types`` (unknown), ``organization_ids`` or
                ``description``.
        """
        authorize(ctx.principal, Permission.WEBHOOK_MANAGE)
        self._check(cmd)
        secret = self._mint()
        subscription = self._store.add(
            ctx.principal.tenant_id, uuid4(), cmd, secret, ctx.principal.actor_id
        )
        return Created(subscription, secret)

    def _check(self, cmd: Subscribe) -> None:
        if len(cmd.url) > MAX_URL_LENGTH:
            raise InvalidValueError("url", f"url is longer than {MAX_URL_LENGTH}")
        refusal = self._targets.refusal(cmd.url)
        if refusal is not None:
            raise InvalidValueError("url", refusal)
        if len(cmd.event_types) > MAX_EVENT_TYPES:
            raise InvalidValueError(
                "event_types", f"at most {MAX_EVENT_TYPES} event types"
            )
        unknown = sorted(set(cmd.event_types) - self._known)
        if unknown:
            raise InvalidValueError(
                "event_types", f"unknown event types: {', '.join(unknown[:5])}"
            )
        if cmd.organization_ids is not None and not (
            0 < len(cmd.organization_ids) <= MAX_ORGANIZATIONS
        ):
            raise InvalidValueError(
                "organization_ids",
                f"organization_ids holds 1 to {MAX_ORGANIZATIONS} ids, or is null",
            )
        if len(cmd.description) > MAX_DESCRIPTION:
            raise InvalidValueError(
                "description", f"description is longer than {MAX_DESCRIPTION}"
            )

    def subscription(self, ctx: CommandContext, subscription_id: UUID) -> Subscription:
        """One subscription of the caller's tenant.

        Raises:
            NotFoundError: the tenant has no such subscription.
        """
        authorize(ctx.principal, Permission.WEBHOOK_MANAGE)
        found = self._store.get(ctx.principal.tenant_id, subscription_id)
        if found is None:
            raise NotFoundError("webhook subscription", subscription_id)
        return found

    def subscriptions(
        self, ctx: CommandContext, after: UUID | None, limit: int
    ) -> tuple[list[Subscription], UUID | None]:
        """A page of the tenant's subscriptions, newest first."""
        authorize(ctx.principal, Permission.WEBHOOK_MANAGE)
        return self._store.page(ctx.principal.tenant_id, after, limit)

    def pause(self, ctx: CommandContext, subscription_id: UUID) -> Subscription:
        """Stop delivering; events keep being queued for it."""
        return self._set_state(ctx, subscription_id, "paused", "paused by an admin")

    def resume(self, ctx: CommandContext, subscription_id: UUID) -> Subscription:
        """Deliver again, starting with what queued up meanwhile."""
        return self._set_state(ctx, subscription_id, "active", None)

    def _set_state(
        self, ctx: CommandContext, subscription_id: UUID, state: str, reason: str | None
    ) -> Subscription:
        authorize(ctx.principal, Permission.WEBHOOK_MANAGE)
        changed = self._store.set_state(
            ctx.principal.tenant_id, subscription_id, state, reason
        )
        if changed is None:
            raise NotFoundError("webhook subscription", subscription_id)
        return changed

    def rotate_secret(self, ctx: CommandContext, subscription_id: UUID) -> Created:
        """A new secret; the previous one keeps signing for the grace period."""
        authorize(ctx.principal, Permission.WEBHOOK_MANAGE)
        secret = self._mint()
        rotated = self._store.rotate(
            ctx.principal.tenant_id, subscription_id, secret, self._grace
        )
        if rotated is None:
            raise NotFoundError("webhook subscription", subscription_id)
        return Created(rotated, secret)

    def delete(self, ctx: CommandContext, subscription_id: UUID) -> None:
        """Remove the subscription and its deliveries."""
        authorize(ctx.principal, Permission.WEBHOOK_MANAGE)
        if not self._store.delete(ctx.principal.tenant_id, subscription_id):
            raise NotFoundError("webhook subscription", subscription_id)

    def deliveries(
        self,
        ctx: CommandContext,
        subscription_id: UUID,
        before: int | None,
        limit: int,
    ) -> list[Delivery]:
        """The subscription's deliveries, newest first, with their attempts."""
        self.subscription(ctx, subscription_id)
        return self._store.deliveries(
            ctx.principal.tenant_id, subscription_id, before, limit
        )

    def redeliver(
        self, ctx: CommandContext, subscription_id: UUID, delivery_id: UUID
    ) -> None:
        """Send one delivery again (same ``webhook-id``) as soon as it is its
        aggregate's turn."""
        self.subscription(ctx, subscription_id)
        if not self._store.redeliver(
            ctx.principal.tenant_id, subscription_id, delivery_id
        ):
            raise NotFoundError("webhook delivery", delivery_id)

    def replay(
        self,
        ctx: CommandContext,
        subscription_id: UUID,
        from_position: int,
        to_position: int | None,
    ) -> int:
        """Send again every delivery in the position range; return how many.

        Raises:
            InvalidValueError: ``to_position`` before ``from_position``.
        """
        self.subscription(ctx, subscription_id)
        if to_position is not None and to_position < from_position:
            raise InvalidValueError(
                "to_position", "to_position must not be before from_position"
            )
        return self._store.replay(
            ctx.principal.tenant_id, subscription_id, from_position, to_position
        )
