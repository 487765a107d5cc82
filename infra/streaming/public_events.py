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
from uuid import UUID

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
    return event_id_of(str(aggregate_id), version)


_NAMESPACE_BYTES = _EVENT_ID_NAMESPACE.bytes


def event_id_of(aggregate_id: str, version: int) -> str:
    """``str(uuid5(namespace, f"{aggregate_id}:{version}"))``, without building
    the UUID object (a rebuild makes a million of these)."""
    digest = bytearray(
        hashlib.sha1(
            _NAMESPACE_BYTES + f"{aggregate_id}:{version}".encode(),
            usedforsecurity=False,
        ).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Types :func:`to_json_value` returns as they are (exact types, not subclasses:
a ``StrEnum`` member still goes the ``Enum`` way)."""


def to_json_value(value: Any) -> Any:
    """Plain JSON value of a domain value (UUID, datetime, dataclass, …)."""
    if type(value) in _PLAIN:
        return value
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


_CLASSES: dict[type[Any], tuple[str, tuple[tuple[str, bool], ...]]] = {}


def described_fields(
    event_class: type[Any],
) -> tuple[str, tuple[tuple[str, bool], ...]]:
    """The public type of an event class and ``(name, digested)`` of each of
    its public fields, in order; worked out once per class."""
    described = _CLASSES.get(event_class)
    if described is None:
        digested = getattr(event_class, "DIGESTED", ())
        fields = tuple(
            (f.name, f.name in digested)
            for f in dataclasses.fields(event_class)
            if f.name not in INTERNAL_FIELDS
        )
        described = _CLASSES[event_class] = (public_type(event_class), fields)
    return described


def to_envelope(event: Any, position: int, source: str) -> EventEnvelope:
    """The public envelope of a decoded domain event at ``position``."""
    meta = getattr(event, "meta", None)
    if not isinstance(meta, EventMeta):
        raise UnpublishableEventError(f"{type(event).__qualname__} has no meta")
    public, fields = described_fields(type(event))
    data: dict[str, Any] = {}
    for name, digested in fields:
        value = to_json_value(getattr(event, name))
        if digested:
            data[f"{name}_sha256"] = hashlib.sha256(str(value).encode()).hexdigest()
        else:
            data[name] = value
    subject = str(event.originator_id)
    return EventEnvelope(
        id=event_id_of(subject, event.originator_version),
        type=public,
        source=source,
        subject=subject,
        time=event.timestamp,
        tenant_id=meta.tenant_id,
        position=position,
        aggregate_version=event.originator_version,
        actor_id=meta.actor_id,
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        data=data,
    )
