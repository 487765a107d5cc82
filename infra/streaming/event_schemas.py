"""JSON Schemas of the public events (the Kafka record values).

Generated from the event classes, committed under ``docs/events/`` and
checked by a test, so the documentation cannot drift from the code. A field
an event class names in its ``PERSONAL`` class variable (a
``frozenset[str]`` of field names) is personal data and is marked
``"x-personal": true``, so consumers know what to protect and erase.

**Versions.** A committed schema is a contract: changing anything but its
descriptions is breaking (consumers validate against it), so it needs the
event class's next ``class_version`` with an upcaster, and the old version's
schema moves to ``infra/streaming/superseded/``, where it stays described
(here, in ``docs/events/`` and in the AsyncAPI document) for consumers of old
records. :func:`write_all` refuses to overwrite a committed schema with a
breaking change.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import typing
from datetime import date, datetime
from enum import Enum
from importlib import resources
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


class BreakingSchemaChangeError(ValueError):
    """A committed schema would change in a way that breaks its consumers."""


def superseded() -> dict[str, dict[str, Any]]:
    """Public type → JSON Schema of every earlier version still described
    (stored events of it are upcast and published at the current version)."""
    folder = resources.files("infra.streaming") / "superseded"
    found = [p for p in folder.iterdir() if p.name.endswith(".json")]
    return {
        p.name.removesuffix(".json"): json.loads(p.read_text())
        for p in sorted(found, key=lambda p: p.name)
    }


def current() -> dict[str, dict[str, Any]]:
    """Public type → JSON Schema of every event type at its current version."""
    return {public_type(c): schema(c) for c in EVENT_CLASSES}


def _contract(value: Any) -> Any:
    """A schema without its descriptions: what consumers validate against."""
    if isinstance(value, dict):
        return {k: _contract(v) for k, v in value.items() if k != "description"}
    if isinstance(value, list):
        return [_contract(v) for v in value]
    return value


def breaking_change(committed: dict[str, Any], generated: dict[str, Any]) -> bool:
    """Whether ``generated`` differs from ``committed`` in more than its
    descriptions (a field added, removed, retyped, made optional, …)."""
    return bool(_contract(committed) != _contract(generated))


def _text(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def render_all() -> dict[str, str]:
    """File name → JSON text of every event schema, current and superseded."""
    return {f"{name}.json": _text(s) for name, s in (superseded() | current()).items()}


def write_all(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; return the paths written.

    Raises:
        BreakingSchemaChangeError: a schema committed in ``folder`` would
            change in more than its descriptions; nothing is written.
    """
    rendered = render_all()
    for name, text in rendered.items():
        path = folder / name
        if path.exists() and breaking_change(
            json.loads(path.read_text()), json.loads(text)
        ):
            raise BreakingSchemaChangeError(
                f"{name}: a breaking change to a published schema needs the "
                "event class's next class_version (with an upcaster); move the "
                "committed file to infra/streaming/superseded/"
            )
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered.items():
        path = folder / name
        path.write_text(text)
        written.append(path)
    return written
