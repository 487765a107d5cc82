"""Which stored topics make up each public event type and aggregate type,
and which fields of each are personal."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eventsourcing.utils import get_topic

from infra.streaming.event_schemas import EVENT_CLASSES


@dataclass(frozen=True)
class EventKind:
    """What the history needs of one event class.

    Attributes:
        type: Public type without prefix or version (``audit.planned``).
        aggregate_type: The first part of it (``audit``).
        personal: Fields the class declares personal (``PERSONAL``).
    """

    type: str
    aggregate_type: str
    personal: frozenset[str]


@dataclass(frozen=True)
class Catalog:
    """Every published event class by stored topic, and the reverse."""

    kinds: dict[str, EventKind]
    """Stored topic → kind."""

    def types(self) -> tuple[str, ...]:
        """Every public type, sorted."""
        return tuple(sorted({k.type for k in self.kinds.values()}))

    def aggregate_types(self) -> tuple[str, ...]:
        """Every aggregate type, sorted."""
        return tuple(sorted({k.aggregate_type for k in self.kinds.values()}))

    def topics_of_types(self, types: tuple[str, ...]) -> list[str]:
        """Stored topics of the given public types."""
        return [t for t, k in self.kinds.items() if k.type in types]

    def topics_of_aggregates(self, aggregate_types: tuple[str, ...]) -> list[str]:
        """Stored topics of the given aggregate types."""
        return [t for t, k in self.kinds.items() if k.aggregate_type in aggregate_types]

    def kind(self, topic: str, event: Any = None) -> EventKind:
        """The kind of a stored topic (of the decoded event's class if the
        topic is not a current class's, e.g. one registered under an old name)."""
        found = self.kinds.get(topic)
        if found is None and event is not None:
            found = _kind(type(event))
        if found is None:
            raise KeyError(topic)
        return found


def _kind(event_class: type[Any]) -> EventKind:
    name = str(event_class.TYPE)
    return EventKind(
        type=name,
        aggregate_type=name.split(".", 1)[0],
        personal=frozenset(getattr(event_class, "PERSONAL", ())),
    )


@cache
def catalog() -> Catalog:
    """The catalog of :data:`~infra.streaming.event_schemas.EVENT_CLASSES`."""
    return Catalog({get_topic(c): _kind(c) for c in EVENT_CLASSES})
