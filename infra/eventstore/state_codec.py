"""A faithful, compact JSON encoding of an aggregate's state, for snapshots.

The library's JSON transcoder is made for events, whose fields are plain
values; an aggregate's state is richer, and the transcoder loses some of it
(str-enums come back as ``str``, tuples as lists, dict keys must be ``str``,
dataclasses need a transcoding each). This codec writes every value that is
not a plain JSON scalar as a JSON array whose first item is a tag. Classes
(enums, dataclasses, named tuples) are found by introspection, not by a
registry, so a new value object in the domain needs nothing here; each is
listed once in a class table with its field names, and values refer to it
by index::

    None, bool, int, float, str      as themselves (exact types only)
    UUID, date, datetime, Decimal    ["u" | "d" | "dt" | "n", text]
    tuple, list, set, frozenset      ["t" | "l" | "s" | "f", item, ...]
    dict (any hashable keys)         ["m", key, value, key, value, ...]
    Enum member                      ["e", class index, value]
    dataclass, NamedTuple instance   ["o", class index, field value, ...]

    encoded state: {"classes": [[topic, kind, [field, ...]], ...],
                    "attrs": {attribute: value, ...}}

Being arrays, the values cost the JSON transcoder no object hook; and long
states (an audit with a thousand findings) stay a fraction of the size of a
self-describing encoding. Decoding is strict: an unknown tag, a class that no
longer resolves or is no longer of its kind, a dataclass whose fields changed
or an enum value that no longer exists raises :class:`StateCodecError`, so a
stale encoding is refused rather than restored wrongly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TypeAlias
from uuid import UUID

from eventsourcing.utils import TopicError, get_topic, resolve_topic

JSONValue: TypeAlias = (
    bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None
)

_SCALARS = frozenset({type(None), bool, int, float, str})
_TEXTS: dict[type, str] = {UUID: "u", date: "d", datetime: "dt", Decimal: "n"}
_PARSERS: dict[str, Callable[[str], object]] = {
    "u": lambda text: UUID(hex=text),
    "d": date.fromisoformat,
    "dt": datetime.fromisoformat,
    "n": Decimal,
}
_COLLECTIONS: dict[type, str] = {tuple: "t", list: "l", set: "s", frozenset: "f"}
_BUILDERS: dict[str, Callable[[list[object]], object]] = {
    tag: kind for kind, tag in _COLLECTIONS.items()
}


class StateCodecError(ValueError):
    """A value the codec cannot encode, or an encoding it cannot decode."""


class _Encoder:
    def __init__(self) -> None:
        self.classes: dict[type, int] = {}
        self.table: list[JSONValue] = []

    def class_index(self, kind: type, form: str, names: list[str]) -> int:
        index = self.classes.get(kind)
        if index is None:
            index = self.classes[kind] = len(self.table)
            self.table.append([get_topic(kind), form, list(names)])
        return index

    def encode(self, value: object) -> JSONValue:
        kind = type(value)
        if kind in _SCALARS:
            return value  # type: ignore[return-value]
        if kind in _TEXTS:
            text = value.hex if isinstance(value, UUID) else _text(value)
            return [_TEXTS[kind], text]
        if kind in _COLLECTIONS:
            assert isinstance(value, tuple | list | set | frozenset)
            return [_COLLECTIONS[kind], *map(self.encode, value)]
        if kind is dict:
            assert isinstance(value, dict)
            flat: list[JSONValue] = ["m"]
            for key, item in value.items():
                flat += (self.encode(key), self.encode(item))
            return flat
        if isinstance(value, Enum):
            return ["e", self.class_index(kind, "enum", []), self.encode(value.value)]
        return self.encode_object(value)

    def encode_object(self, value: object) -> JSONValue:
        kind = type(value)
        names = getattr(kind, "_fields", None)
        if isinstance(value, tuple) and isinstance(names, tuple):
            index = self.class_index(kind, "namedtuple", list(names))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            names = tuple(f.name for f in dataclasses.fields(value))
            index = self.class_index(kind, "dataclass", list(names))
        else:
            name = f"{kind.__module__}.{kind.__qualname__}"
            raise StateCodecError(f"cannot encode a {name}")
        return ["o", index, *(self.encode(getattr(value, n)) for n in names)]


def _text(value: object) -> str:
    if isinstance(value, date):  # date and datetime
        return value.isoformat()
    return str(value)


class _Decoder:
    def __init__(self, table: JSONValue) -> None:
        if not isinstance(table, list):
            raise StateCodecError("no class table")
        self.classes = [_resolve(entry) for entry in table]

    def decode(self, data: JSONValue) -> object:
        if not isinstance(data, list):
            if isinstance(data, dict):
                raise StateCodecError("an untagged object")
            return data
        tag = data[0] if data else None
        if tag in _BUILDERS:
            return _BUILDERS[tag]([self.decode(v) for v in data[1:]])
        if tag == "m":
            items = [self.decode(v) for v in data[1:]]
            if len(items) % 2:
                raise StateCodecError("a dict with a key and no value")
            return dict(zip(items[::2], items[1::2], strict=True))
        if tag == "o":
            kind, names = self.classes[_index(data[1])]
            values = [self.decode(v) for v in data[2:]]
            if names is None or len(values) != len(names):
                raise StateCodecError(f"{kind.__qualname__} has other fields now")
            return _build(kind, dict(zip(names, values, strict=True)))
        if tag == "e":
            kind, _ = self.classes[_index(data[1])]
            return kind(self.decode(data[2]))
        if isinstance(tag, str) and tag in _PARSERS and isinstance(data[1], str):
            return _PARSERS[tag](data[1])
        raise StateCodecError(f"unknown tag {tag!r}")


def _index(value: JSONValue) -> int:
    if not isinstance(value, int):
        raise StateCodecError(f"class index {value!r}")
    return value


def _resolve(entry: JSONValue) -> tuple[type, tuple[str, ...] | None]:
    """A class of the table, checked against the kind and fields recorded."""
    if not (isinstance(entry, list) and len(entry) == 3):
        raise StateCodecError(f"class table entry {entry!r}")
    topic, form, names = entry
    kind = resolve_topic(str(topic))
    if form == "enum" and isinstance(kind, type) and issubclass(kind, Enum):
        return kind, None
    if form == "dataclass" and dataclasses.is_dataclass(kind):
        now = tuple(f.name for f in dataclasses.fields(kind))
    elif form == "namedtuple" and isinstance(kind, type) and issubclass(kind, tuple):
        now = tuple(getattr(kind, "_fields", ()))
    else:
        raise StateCodecError(f"{topic} is no longer a {form}")
    if not isinstance(kind, type) or names != list(now):
        raise StateCodecError(f"the fields of {topic} changed")
    return kind, now


def _build(kind: type, values: dict[str, object]) -> object:
    if issubclass(kind, tuple):
        return kind(**values)
    fields = dataclasses.fields(kind)  # type: ignore[arg-type]
    obj = kind(**{f.name: values[f.name] for f in fields if f.init})
    for f in fields:
        if not f.init:
            object.__setattr__(obj, f.name, values[f.name])
    return obj


def encode_state(state: Mapping[str, object]) -> dict[str, JSONValue]:
    """An aggregate's attributes as JSON-ready data that
    :func:`decode_state` restores exactly.

    Raises:
        StateCodecError: an attribute holds a value of a type the codec does
            not know (the error names the attribute).
    """
    encoder = _Encoder()
    attrs: dict[str, JSONValue] = {}
    for name, value in state.items():
        try:
            attrs[name] = encoder.encode(value)
        except StateCodecError as e:
            raise StateCodecError(f"attribute {name!r}: {e}") from e
    return {"classes": encoder.table, "attrs": attrs}


def decode_state(encoded: Mapping[str, JSONValue]) -> dict[str, object]:
    """The attributes that :func:`encode_state` encoded.

    Raises:
        StateCodecError: ``encoded`` is not such an encoding, or names a
            class, enum value or field that no longer exists.
    """
    try:
        decoder = _Decoder(encoded.get("classes"))
        attrs = encoded.get("attrs")
        if not isinstance(attrs, dict):
            raise StateCodecError("no attributes")
        return {name: decoder.decode(data) for name, data in attrs.items()}
    except StateCodecError:
        raise
    except (TopicError, ArithmeticError, LookupError, TypeError, ValueError) as e:
        raise StateCodecError(f"cannot decode: {e!r}") from e


def encode_value(value: object) -> dict[str, JSONValue]:
    """One value, encoded as the state of a single attribute ``value``.

    Raises:
        StateCodecError: a value of a type the codec does not know.
    """
    return encode_state({"value": value})


def decode_value(encoded: Mapping[str, JSONValue]) -> object:
    """The value that :func:`encode_value` encoded.

    Raises:
        StateCodecError: see :func:`decode_state`.
    """
    return decode_state(encoded).get("value")
