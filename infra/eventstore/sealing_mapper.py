"""The store's mapper: personal fields sealed on the way in, opened on load.

An event class's ``PERSONAL`` fields (see :mod:`domain.personal`) are sealed
with the key of the person its ``PERSON`` attribute names, once, when the
event becomes a stored event, before the payload bytes exist: the bytes
stored (and anything computed over them in the append transaction) hold only
the token. Loading an aggregate opens the tokens (``[erased]`` once the key
was destroyed); :meth:`SealingMapper.to_sealed_event` decodes without opening,
for the public path (:mod:`infra.streaming.public_events` decides what a
reader of the public JSON sees). Stored bytes are never rewritten.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent

from infra.erasure.sealing import PersonalCipher


def personal_of(event_class: type[Any]) -> tuple[frozenset[str], str]:
    """The personal fields of an event class and the attribute naming their
    person (empty for a class without personal fields)."""
    fields: frozenset[str] = getattr(event_class, "PERSONAL", frozenset())
    return fields, getattr(event_class, "PERSON", "originator_id")


def _with_state(event: Any, state: dict[str, Any]) -> Any:
    copy = object.__new__(type(event))
    object.__setattr__(copy, "__dict__", state)
    return copy


class SealingMapper(Mapper[UUID]):
    """The library's mapper with personal fields sealed by :attr:`personal`
    (``None``: stored as they are, which only a benchmark's baseline does)."""

    personal: PersonalCipher | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        fields, person = personal_of(type(domain_event))
        if fields and self.personal is not None:
            state = dict(vars(domain_event))
            values = {name: state[name] for name in fields}
            new_person = (
                person == "originator_id" and domain_event.originator_version == 1
            )
            self.personal.seal(
                state["meta"].tenant_id, state[person], values, new_person=new_person
            )
            domain_event = _with_state(domain_event, state | values)
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event = super().to_domain_event(stored_event)
        fields, person = personal_of(type(event))
        if fields and self.personal is not None:
            state = vars(event)
            values = {name: state[name] for name in fields}
            self.personal.open(state["meta"].tenant_id, state[person], values)
            state.update(values)
        return event

    def to_sealed_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """The domain event with its personal fields as stored (sealed)."""
        return super().to_domain_event(stored_event)
