"""Domain events to their public JSON form (the envelope consumers read).

The library's internal serialization never leaves the store: the relay and
rebuilds decode each stored event (upcasting it to its current class version)
and publish what :func:`to_envelope` makes of it, after :func:`personal_view`
has decided what its personal fields show.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.events import EventMeta
from infra.erasure.sealing import PersonalCipher
from infra.streaming.event_catalog import (
    PERSONAL_BY_TYPE,
    TYPE_PREFIX,
    UnpublishableEventError,
    public_type,
)
from projections.envelope import EventEnvelope

__all__ = [
    "INTERNAL_FIELDS",
    "TYPE_PREFIX",
    "UnpublishableEventError",
    "personal_data",
    "personal_view",
    "public_type",
    "to_envelope",
]

_EVENT_ID_NAMESPACE = UUID("5d0c2a36-6b8f-4a56-9f0e-2b1b7c0a9e41")
INTERNAL_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "meta"}
)


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
        traceparent=meta.traceparent,
    )


def personal_view(
    envelope: EventEnvelope, cipher: PersonalCipher, *, reveal: bool
) -> EventEnvelope:
    """The one rule for personal fields (``x-personal``) in public JSON.

    Personal fields travel sealed: the Kafka topic, and any copy made of it,
    holds no plain personal data, so destroying a person's key erases those
    copies too. Every producer of public JSON calls this function: the relay
    (``reveal=False``), the projectors and rebuilds (``reveal=True``), and the
    event feed and webhooks (``reveal`` only for callers allowed to see
    personal data).

    - ``reveal=False``: each personal text value is its sealed token
      (``pii:v1:…``, opaque without the key); a value stored before sealing
      existed is sealed now with the person's key.
    - ``reveal=True``: the plain value.
    - Either way, a field of an erased person reads ``"[erased]"``, and
      ``null`` stays ``null``.

    The person is the event's subject (or the field the event class names in
    ``PERSON``). Types without personal fields are returned as they are.

    Raises:
        DependencyUnavailableError: the key table cannot be reached.
    """
    data = personal_data(
        envelope.type,
        envelope.subject,
        envelope.tenant_id,
        envelope.data,
        cipher,
        reveal=reveal,
    )
    return (
        envelope if data is envelope.data else dataclasses.replace(envelope, data=data)
    )


def personal_data(
    event_type: str,
    subject: str,
    tenant_id: str,
    data: dict[str, Any],
    cipher: PersonalCipher,
    *,
    reveal: bool,
) -> dict[str, Any]:
    """:func:`personal_view` of an event's public ``data`` alone (its type,
    subject and tenant given): ``data`` itself where nothing changes, else a
    new dict.

    Raises:
        DependencyUnavailableError: the key table cannot be reached.
    """
    described = PERSONAL_BY_TYPE.get(event_type)
    if described is None:
        return data
    fields, person = described
    values = {name: data[name] for name in fields if type(data.get(name)) is str}
    if not values:
        return data
    person_id = UUID(subject if person == "originator_id" else data[person])
    if reveal:
        cipher.open(tenant_id, person_id, values)
    else:
        cipher.conceal(tenant_id, person_id, values)
    return {**data, **values}
