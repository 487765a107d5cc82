"""JSON Schemas of the public events (the Kafka record values).

Generated from the event classes, committed under ``docs/events/`` and
checked by a test, so the documentation cannot drift from the code. A field
an event class names in its ``PERSONAL`` class variable (a
``frozenset[str]`` of field names) is personal data and is marked
``"x-personal": true``, so consumers know what to protect and erase.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import typing
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from infra.streaming.event_catalog import AGGREGATES, EVENT_CLASSES, PUBLIC_TYPES
from infra.streaming.public_events import INTERNAL_FIELDS, public_type

__all__ = ["AGGREGATES", "EVENT_CLASSES", "PUBLIC_TYPES", "render_all", "schema"]

_SCALARS: dict[Any, dict[str, str]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    UUID: {"type": "string", "format": "uuid"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
}


def _schema_of(annotation: Any) -> dict[str, Any]:
    if annotation in _SCALARS:
        return dict(_SCALARS[annotation])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return {"type": "string", "enum": [m.value for m in annotation]}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if type(None) in args:
        inner = [a for a in args if a is not type(None)]
        return {"anyOf": [_schema_of(inner[0]), {"type": "null"}]}
    if origin in (tuple, list, frozenset, set) and args:
        return {"type": "array", "items": _schema_of(args[0])}
    if origin is dict and args:
        return {"type": "object", "additionalProperties": _schema_of(args[1])}
    raise TypeError(f"no JSON Schema mapping for {annotation!r}")


def _public_name(event_class: type[Any], field: str) -> str:
    """A secret field is published as its SHA-256 under ``<field>_sha256``."""
    return f"{field}_sha256" if field in getattr(event_class, "DIGESTED", ()) else field


def _personal(event_class: type[Any], fields: list[str]) -> frozenset[str]:
    """The fields ``event_class`` declares personal; each must be a field."""
    personal = frozenset(getattr(event_class, "PERSONAL", ()))
    unknown = personal - set(fields)
    if unknown:
        raise TypeError(
            f"{event_class.__qualname__}.PERSONAL names no field {sorted(unknown)}"
        )
    return personal


def _property(event_class: type[Any], field: str, hint: Any) -> dict[str, Any]:
    if field in getattr(event_class, "DIGESTED", ()):
        return {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    return _schema_of(hint)


def schema(event_class: type[Any]) -> dict[str, Any]:
    """The JSON Schema of one event type's public body."""
    hints = typing.get_type_hints(event_class)
    fields = [
        f for f in dataclasses.fields(event_class) if f.name not in INTERNAL_FIELDS
    ]
    personal = _personal(event_class, [f.name for f in fields])
    name = public_type(event_class)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": name,
        "title": name,
        "description": inspect.cleandoc(event_class.__doc__ or ""),
        "type": "object",
        "properties": {
            _public_name(event_class, f.name): (
                _property(event_class, f.name, hints[f.name])
                | ({"x-personal": True} if f.name in personal else {})
            )
            for f in fields
        },
        "required": [_public_name(event_class, f.name) for f in fields],
        "additionalProperties": False,
    }


def render_all() -> dict[str, str]:
    """File name → JSON text of every event schema."""
    return {
        f"{s['$id']}.json": json.dumps(s, indent=2, sort_keys=True) + "\n"
        for s in (schema(c) for c in EVENT_CLASSES)
    }


def write_all(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = folder / name
        path.write_text(text)
        written.append(path)
    return written
