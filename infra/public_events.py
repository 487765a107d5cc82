"""Domain events to their public JSON form (the envelope consumers read).

The library's internal serialization never leaves the store: the relay and
rebuilds decode each stored event (upcasting it to its current class version)
and publish what :func:`to_envelope` makes of it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID, uuid5

from domain.events import EventMeta
from infra.errors import InfrastructureError
from projections.envelope import EventEnvelope

TYPE_PREFIX = "assurehub."
_EVENT_ID_NAMESPACE = UUID("5d0c2a36-6b8f-4a56-9f0e-2b1b7c0a9e41")
INTERNAL_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "meta"}
)


class UnpublishableEventError(InfrastructureError, TypeError):
    """The event class lacks a public ``TYPE`` or ``meta``."""


def public_type(event_class: type[Any]) -> str:
    """``assurehub.<TYPE>.v<class_version>`` of an event class."""
    name = getattr(event_class, "TYPE", None)
    if not isinstance(name, str):
        raise UnpublishableEventError(f"{event_class.__qualname__} has no TYPE")
    version = getattr(event_class, "class_version", 1)
    return f"{TYPE_PREFIX}{name}.v{version}"


def event_id(aggregate_id: UUID, version: int) -> str:
    """Stable id of the event at ``version`` of ``aggregate_id``."""
    return str(uuid5(_EVENT_ID_NAMESPACE, f"{aggregate_id}:{version}"))


def to_json_value(value: Any) -> Any:
    """Plain JSON value of a domain value (UUID, datetime, dataclass, …)."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_json_value(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_json_value(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json_value(v) for v in value]
    return value


def to_envelope(event: Any, position: int, source: str) -> EventEnvelope:
    """The public envelope of a decoded domain event at ``position``."""
    meta = getattr(event, "meta", None)
    if not isinstance(meta, EventMeta):
        raise UnpublishableEventError(f"{type(event).__qualname__} has no meta")
    digested = getattr(type(event), "DIGESTED", ())
    data: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        if f.name in INTERNAL_FIELDS:
            continue
        value = to_json_value(getattr(event, f.name))
        if f.name in digested:
            data[f"{f.name}_sha256"] = hashlib.sha256(str(value).encode()).hexdigest()
        else:
            data[f.name] = value
    return EventEnvelope(
        id=event_id(event.originator_id, event.originator_version),
        type=public_type(type(event)),
        source=source,
        subject=str(event.originator_id),
        time=event.timestamp,
        tenant_id=meta.tenant_id,
        position=position,
        aggregate_version=event.originator_version,
        actor_id=meta.actor_id,
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        data=data,
    )
