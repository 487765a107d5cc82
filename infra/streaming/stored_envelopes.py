"""Stored event rows straight to public envelopes, without the domain event.

:class:`StoredEnvelopes` makes exactly the envelope that
``to_envelope(store.decode(row), position, source)`` makes, but parses the
row's JSON once without object hooks (orjson where it reads numbers as the
library's decoder does, else that decoder's own C scanner) and turns the
library's tagged values (``{"_type_": "uuid_hex", "_data_": …}``, dates,
datetimes) straight into their public JSON forms: no object hook per JSON
object, no ``UUID``, ``date`` or domain event objects. Every conversion is
the slow path's own (``str(UUID(x))`` but for canonical hex,
``date.fromisoformat(x).isoformat()``, …), so the result is the same
value, not an approximation of it.

Anything it does not handle exactly goes the slow way, which then gives the
slow path's envelope or raises its error: an event stored at an older class
version (upcasting), an unknown topic or class, a tag or shape it does not
know, a missing field, a non-UUID originator id, or a mapper with a cipher,
a compressor or other classes than the library's own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NamedTuple, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from domain.events import EventMeta
from infra.eventstore.sealing_mapper import SealingMapper
from infra.eventstore.store import DateAsISO, EventMetaAsDict, LibraryEventStore
from infra.streaming.public_events import described_fields, event_id_of, to_envelope
from projections.envelope import EventEnvelope

_HEX32 = re.compile(r"[0-9a-f]{32}")
_SCALARS: frozenset[type] = frozenset({str, int, float, bool, type(None)})
_NO_FLOATS = _SCALARS - {float}
"""The scalars of a state parsed by a parser that reads an integer beyond 64
bits as a float (orjson): a float there may have been an integer."""
_COLUMNS = frozenset({"originator_id", "originator_version"})
"""Fields the mapper stores in their own columns, not in the state."""
_READ = ("meta", "timestamp", *_COLUMNS)
"""Attributes the slow path reads besides the public fields."""
_META_FIELDS = (
    "tenant_id",
    "actor_id",
    "correlation_id",
    "causation_id",
    "traceparent",
)
_ENVELOPE_FIELDS = (
    "id",
    "type",
    "source",
    "subject",
    "time",
    "tenant_id",
    "position",
    "aggregate_version",
    "actor_id",
    "correlation_id",
    "causation_id",
    "data",
    "traceparent",
)
"""The fields of :class:`EventEnvelope`, in the order its ``__init__`` sets them."""
_new = object.__new__
_set = object.__setattr__


class StoredParts(NamedTuple):
    """The parts of a stored event's envelope that its row does not hold.

    Attributes:
        type: Versioned public type.
        stored_version: The class version the row was stored at.
        time: When it was recorded, as ``datetime.isoformat`` writes it.
        meta: Tenant, actor, correlation, causation (and trace) ids.
        data: The public data, personal fields as stored (sealed).
    """

    type: str
    stored_version: int
    time: str
    meta: dict[str, str]
    data: dict[str, Any]


class _UnhandledError(Exception):
    """Something the fast path does not convert exactly: go the slow way."""


def _uuid(data: str) -> str:
    if _HEX32.fullmatch(data):
        return f"{data[:8]}-{data[8:12]}-{data[12:16]}-{data[16:20]}-{data[20:]}"
    return str(UUID(data))


def _datetime(data: str) -> str:
    return datetime.fromisoformat(data).isoformat()


def _date(data: str) -> str:
    return date.fromisoformat(data).isoformat()


_PUBLIC_FORMS: dict[type[Transcoding], Callable[[str], str]] = {
    UUIDAsHex: _uuid,
    DatetimeAsISO: _datetime,
    DateAsISO: _date,
}
"""Public JSON of a tagged string, for the transcodings whose decoded value
:func:`infra.streaming.public_events.to_json_value` turns into a string."""


class _Shape:
    """What the fast path needs of one event class."""

    __slots__ = ("fields", "others", "public", "size", "version")

    def __init__(self, event_class: Any) -> None:
        self.version = getattr(event_class, "class_version", 1)
        self.public, self.fields = described_fields(event_class)
        stored = {f.name for f in dataclasses.fields(event_class)} - _COLUMNS
        self.size = len(stored)
        public = {name for name, _ in self.fields}
        self.others = tuple(sorted(stored - public - {"meta", "timestamp"}))
        """Stored, not public and not read (``originator_topic``)."""
        if event_class.__getattribute__ is not object.__getattribute__:
            raise _UnhandledError
        for name in (*_READ, *(name for name, _ in self.fields)):
            for klass in event_class.__mro__:
                found = vars(klass).get(name)
                if found is not None and hasattr(type(found), "__set__"):
                    raise _UnhandledError  # a data descriptor would shadow the state
        find_id_convertor(event_class, UUID)  # the slow path's check of the class


class StoredEnvelopes:
    """Public envelopes of stored events, as the relay publishes them.

    Args:
        store: The event store whose mapper wrote the rows.
        source: ``ce_source`` of the envelopes.
    """

    def __init__(self, store: LibraryEventStore, source: str) -> None:
        self._store = store
        self._source = source
        self._shapes: dict[str, _Shape | None] = {}
        self._scan = _scanner(json.JSONDecoder())
        self._tags: dict[str, Callable[[str], str]] = {}
        self._metas: set[str] = set()
        self._ready = self._on = self._plain_numbers = False
        self.fallbacks = 0
        """Events that went the slow way so far."""

    def envelope(self, stored: StoredEvent, position: int) -> EventEnvelope:
        """``to_envelope(store.decode(stored), position, source)``, faster."""
        envelope = self.fast(stored, position)
        if envelope is None:
            self.fallbacks += 1
            envelope = to_envelope(self._store.decode(stored), position, self._source)
        return envelope

    def fast(self, stored: StoredEvent, position: int) -> EventEnvelope | None:
        """The envelope by the fast path, or ``None`` where it does not apply."""
        try:
            shape = self._shapes[stored.topic]
        except KeyError:
            shape = self._shape(stored.topic)
        state = stored.state
        if (
            shape is None
            or type(stored.originator_id) is not UUID
            or type(state) is not bytes
        ):
            return None
        if self._plain_numbers:
            try:
                parsed = orjson.loads(state)
                return self._envelope(shape, stored, position, parsed, _NO_FLOATS)
            except (_UnhandledError, ValueError, TypeError, KeyError):
                pass  # a float (orjson's for a big integer, too): the scanner's way
        try:
            text = state.decode("utf8")
            # The decoder's own scan: ``decode`` but for surrounding blanks.
            parsed, end = self._scan(text, 0)
            if end != len(text):
                return None
            return self._envelope(shape, stored, position, parsed)
        except (_UnhandledError, StopIteration, ValueError, TypeError, KeyError):
            return None

    def content(
        self, topic: str, state: Any
    ) -> tuple[str, dict[str, Any], dict[str, Any], str] | None:
        """The public type, the meta fields, the public data and the ISO
        timestamp of a row whose state is already parsed as plain JSON (by
        a parser that gives what the library's does, but for numbers: see
        :attr:`plain_json`), or ``None`` where the fast path does not apply,
        which includes any state holding a float. ``state`` is consumed."""
        try:
            shape = self._shapes[topic]
        except KeyError:
            shape = self._shape(topic)
        if shape is None:
            return None
        try:
            meta, data, timestamp = self._content(shape, state, _NO_FLOATS)
        except (_UnhandledError, ValueError, TypeError, KeyError):
            return None
        return shape.public, meta, data, timestamp

    def parts(self, topic: str, state: bytes) -> StoredParts | None:
        """What the envelope of a row holds besides its columns, without
        making the envelope (``None`` where the fast path does not apply),
        from the row's state bytes: parsed by orjson when the mapper's decoder
        parses numbers the default way (orjson gives the same values, and
        refuses what it does not parse alike: ``NaN``, integers beyond 64
        bits, lone surrogates), by the decoder's own scanner otherwise. The
        caller checks that the originator id is a UUID (``subject``)."""
        try:
            shape = self._shapes[topic]
        except KeyError:
            shape = self._shape(topic)
        if shape is None or type(state) is not bytes:
            return None
        try:
            meta, data, stamp = self._content(shape, self._loads(state))
            return StoredParts(
                shape.public, shape.version, _datetime(stamp), meta, data
            )
        except (_UnhandledError, StopIteration, ValueError, TypeError, KeyError):
            return None

    def _loads(self, state: bytes) -> Any:
        if self._plain_numbers:
            return orjson.loads(state)
        text = state.decode("utf8")
        parsed, end = self._scan(text, 0)
        if end != len(text):
            raise _UnhandledError
        return parsed

    @property
    def plain_json(self) -> bool:
        """Whether the rows are the library's plain JSON, parsed with the
        standard number types: a strict JSON parser that gives the same
        strings and dicts (and refuses what it cannot give exactly) reads
        them as the library does, but for numbers; :meth:`content` refuses
        floats, so an integer it reads as a float goes the slow way."""
        if not self._ready:
            self._prepare()
        return self._on and self._plain_numbers

    def _content(
        self, shape: _Shape, state: Any, scalars: frozenset[type] = _SCALARS
    ) -> tuple[dict[str, str], dict[str, Any], str]:
        if type(state) is not dict or "_type_" in state:
            raise _UnhandledError
        if state.pop("class_version", 1) != shape.version:
            raise _UnhandledError  # upcast (or a newer row): the library's way
        if len(state) != shape.size:
            raise _UnhandledError  # keys the class lacks: the library decodes them too
        for name in shape.others:  # the library decodes (and checks) these too
            self._public(state[name], scalars)
        meta = self._meta(state["meta"])
        data: dict[str, Any] = {}
        for name, digested in shape.fields:
            raw = state[name]
            value = raw if type(raw) in scalars else self._public(raw, scalars)
            if digested:
                data[f"{name}_sha256"] = hashlib.sha256(str(value).encode()).hexdigest()
            else:
                data[name] = value
        return meta, data, self._timestamp(state["timestamp"])

    def _envelope(
        self,
        shape: _Shape,
        stored: StoredEvent,
        position: int,
        state: Any,
        scalars: frozenset[type] = _SCALARS,
    ) -> EventEnvelope:
        meta, data, timestamp = self._content(shape, state, scalars)
        subject = str(stored.originator_id)
        version = stored.originator_version
        # What EventEnvelope(...) makes (checked by _plain_envelope), for a
        # third of the time: the dataclass's __init__ only sets each field.
        envelope = _new(EventEnvelope)
        _set(
            envelope,
            "__dict__",
            {
                "id": event_id_of(subject, version),
                "type": shape.public,
                "source": self._source,
                "subject": subject,
                "time": datetime.fromisoformat(timestamp),
                "tenant_id": meta["tenant_id"],
                "position": position,
                "aggregate_version": version,
                "actor_id": meta["actor_id"],
                "correlation_id": meta["correlation_id"],
                "causation_id": meta["causation_id"],
                "data": data,
                "traceparent": meta.get("traceparent", ""),
            },
        )
        return envelope

    def _public(self, raw: Any, scalars: frozenset[type] = _SCALARS) -> Any:
        """Public JSON of a value as the plain decoder parsed it."""
        kind = type(raw)
        if kind in scalars:
            return raw
        if kind is list:
            return [self._public(v, scalars) for v in raw]
        if kind is not dict:
            raise _UnhandledError
        if "_type_" not in raw:
            return {k: self._public(v, scalars) for k, v in raw.items()}
        if len(raw) != 2:
            raise _UnhandledError
        data = raw["_data_"]
        form = self._tags.get(raw["_type_"])
        if form is None or type(data) is not str:
            raise _UnhandledError
        return form(data)

    def _timestamp(self, raw: Any) -> str:
        """The ISO text of a tagged ``datetime``."""
        if type(raw) is not dict or len(raw) != 2:
            raise _UnhandledError
        data = raw["_data_"]
        if self._tags.get(raw["_type_"]) is not _datetime or type(data) is not str:
            raise _UnhandledError
        return data

    def _meta(self, raw: Any) -> dict[str, str]:
        """The fields of a tagged :class:`EventMeta` (its transcoding makes
        ``EventMeta(**data)``, checked in :meth:`_prepare`)."""
        if type(raw) is not dict or len(raw) != 2 or raw["_type_"] not in self._metas:
            raise _UnhandledError
        inner = raw["_data_"]
        if type(inner) is not dict or not 4 <= len(inner) <= 5:
            raise _UnhandledError
        if (
            type(inner["tenant_id"]) is not str
            or type(inner["actor_id"]) is not str
            or type(inner["correlation_id"]) is not str
            or type(inner["causation_id"]) is not str
            or type(inner.get("traceparent", "")) is not str
            or (len(inner) == 5 and "traceparent" not in inner)
        ):
            raise _UnhandledError  # others, or values the library decodes first
        return inner

    def _shape(self, topic: str) -> _Shape | None:
        if not self._ready:
            self._prepare()
        shape: _Shape | None = None
        if self._on:
            try:
                shape = _Shape(resolve_topic(topic))
            except Exception:  # the slow path raises what it must
                shape = None
        self._shapes[topic] = shape
        return shape

    def _prepare(self) -> None:
        """Take the mapper's setup; leave the fast path off unless it is the
        library's plain JSON one (or ours, which decodes the same way: the
        public path reads personal fields sealed, as stored)."""
        self._ready = True
        mapper = self._store.app.mapper
        transcoder = mapper.transcoder
        if (
            type(mapper) not in (Mapper, SealingMapper)
            or mapper.cipher is not None
            or mapper.compressor is not None
            or type(transcoder) is not JSONTranscoder
        ):
            return
        library = transcoder.decoder
        if (
            type(library) is not json.JSONDecoder
            or library.object_hook != transcoder._decode_obj
            or library.object_pairs_hook is not None
        ):
            return
        for name, transcoding in transcoder.names.items():
            form = _PUBLIC_FORMS.get(type(transcoding))
            if form is not None:
                self._tags[name] = form
            elif type(transcoding) is EventMetaAsDict and _plain_meta(transcoding):
                self._metas.add(name)
        self._scan = _scanner(
            json.JSONDecoder(
                parse_float=library.parse_float,
                parse_int=library.parse_int,
                parse_constant=library.parse_constant,
                strict=library.strict,
            )
        )
        self._on = _plain_envelope()
        self._plain_numbers = library.parse_float is float and library.parse_int is int


def _plain_meta(transcoding: Transcoding) -> bool:
    """Whether the transcoding decodes to ``EventMeta(**data)`` of a plain
    dataclass whose fields are :data:`_META_FIELDS`, in that order."""
    names = tuple(f.name for f in dataclasses.fields(EventMeta))
    sample = dict(zip(_META_FIELDS, ("t", "a", "c", "x", "00-t"), strict=True))
    fewer = {k: v for k, v in sample.items() if k != "traceparent"}
    return (
        names == _META_FIELDS
        and not hasattr(EventMeta, "__post_init__")
        and transcoding.decode(sample) == EventMeta(**sample)
        and transcoding.decode(fewer) == EventMeta(**fewer)
    )


def _plain_envelope() -> bool:
    """Whether :class:`EventEnvelope`'s ``__init__`` is the one dataclasses
    generates for :data:`_ENVELOPE_FIELDS`, which only sets each field."""
    names = tuple(f.name for f in dataclasses.fields(EventEnvelope))
    return (
        names == _ENVELOPE_FIELDS
        and EventEnvelope.__init__.__code__.co_filename == "<string>"
        and not hasattr(EventEnvelope, "__post_init__")
        and "__slots__" not in vars(EventEnvelope)
    )


def _scanner(decoder: json.JSONDecoder) -> Callable[[str, int], tuple[Any, int]]:
    """The decoder's scanner (C): ``decode`` minus its blank skipping."""
    scan: Callable[[str, int], tuple[Any, int]] = cast(Any, decoder).scan_once
    return scan
