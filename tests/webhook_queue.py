"""A tenant with one webhook subscription, and claims from the shared
delivery queue that hand other tests' deliveries straight back."""

from __future__ import annotations

import uuid

from commands.context import CommandContext
from commands.webhooks import Subscribe
from domain.principal import Principal, Role
from infra.postgres.webhooks import AttemptOutcome, DueDelivery, PostgresWebhooks

LEASE = 30.0
WINDOW = 3600.0


def subscribed(
    container, url: str = "http://127.0.0.1:9/in"
) -> tuple[CommandContext, uuid.UUID, int]:
    """A new tenant's admin, its subscription to ``url`` and the position
    after which events are owed to it."""
    tenant = f"queue-{uuid.uuid4().hex[:8]}"
    ctx = CommandContext(
        Principal(tenant, "admin", frozenset({Role.TENANT_ADMIN})), "test"
    )
    created = container.services.webhooks.subscribe(ctx, Subscribe(url))
    sid = created.subscription.subscription_id
    with container.database.connection() as conn:
        [start] = conn.execute(
            "SELECT start_position FROM webhook_subscriptions"
            " WHERE subscription_id = %s",
            (sid,),
        ).fetchone()
    return ctx, sid, start


def claim(
    queue: PostgresWebhooks,
    ours: set[uuid.UUID],
    outcomes: list[AttemptOutcome] | tuple[()] = (),
    paused: list[uuid.UUID] | None = None,
) -> list[DueDelivery]:
    """Settle ``outcomes`` and claim, giving back other tests' claims."""
    now_paused, claimed = queue.settle(outcomes, 5000, LEASE, WINDOW)
    if paused is not None:
        paused += now_paused
    foreign = [d for d in claimed if d.subscription_id not in ours]
    if foreign:
        queue.settle([], 0, LEASE, WINDOW, release=foreign)
    return [d for d in claimed if d.subscription_id in ours]
