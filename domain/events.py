"""What every AssureHub event carries besides its own facts.

Events are named in the past tense and versioned: ``TYPE`` is the stable
public name (``organization.renamed``) and ``class_version`` the schema
version; older stored versions are upcast by ``upcast_vN_vN+1`` static methods
on the event class, never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.principal import Principal


@dataclass(frozen=True)
class EventMeta:
    """Who caused an event, for which tenant, and in which request.

    Attributes:
        tenant_id: Tenant the event belongs to.
        actor_id: Person or service account that issued the command.
        correlation_id: Id of the request (or process) the work started with.
        causation_id: Id of the message that directly caused this event.
        traceparent: W3C trace context of the request that caused it
            (``00-<trace id>-<span id>-<flags>``; empty: none).
    """

    tenant_id: str
    actor_id: str
    correlation_id: str
    causation_id: str
    traceparent: str = ""

    @classmethod
    def of(
        cls,
        principal: Principal,
        correlation_id: str,
        causation_id: str | None = None,
        traceparent: str = "",
    ) -> EventMeta:
        """Metadata for a command issued by ``principal`` in one request."""
        return cls(
            tenant_id=principal.tenant_id,
            actor_id=principal.actor_id,
            correlation_id=correlation_id,
            causation_id=causation_id or correlation_id,
            traceparent=traceparent,
        )
