"""Personal fields of public events, and their masked form.

An event class names its personal fields in ``PERSONAL`` (the JSON Schemas
mark them ``"x-personal": true``). A reader that may not see personal data
(the HTTP event feed, for a caller without ``events:read_personal``) gets
each such field as ``null``; every other field, and the CloudEvents context,
is exactly what was stored.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from infra.streaming.event_catalog import PERSONAL_BY_TYPE
from projections.envelope import EventEnvelope


def personal_fields(event_type: str) -> frozenset[str]:
    """The personal fields of the public type ``event_type`` (none if unknown)."""
    described = PERSONAL_BY_TYPE.get(event_type)
    return frozenset() if described is None else frozenset(described[0])


def masked(envelope: EventEnvelope) -> EventEnvelope:
    """``envelope`` with each personal field of its data set to ``None``."""
    data = masked_data(envelope.type, envelope.data)
    return (
        envelope if data is envelope.data else dataclasses.replace(envelope, data=data)
    )


def masked_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event's public ``data`` with each personal field of ``event_type``
    set to ``None``: ``data`` itself for a type without personal fields."""
    described = PERSONAL_BY_TYPE.get(event_type)
    if described is None or not described[0]:
        return data
    personal = described[0]
    return {k: (None if k in personal else v) for k, v in data.items()}


def masked_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` of an event's data with each ``x-personal`` field also
    allowed to be ``null`` (its masked form), without ``$schema``/``$id``."""
    properties = {
        name: ({"anyOf": [sub, {"type": "null"}]} if sub.get("x-personal") else sub)
        for name, sub in schema["properties"].items()
    }
    kept = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
    return kept | {"properties": properties}
