"""What a projection receives, read once, and the dead letter it becomes.

A Kafka record is read into a :class:`Delivery` without ever raising: its raw
bytes and origin, its envelope when it decodes as one of our CloudEvents of a
known type (else ``problem`` says why not), and what could be read of it
anyway (event id, position, type, aggregate, tenant) to identify it in a dead
letter and to hold later events of its aggregate behind it. A stored event
met by a rebuild becomes a letter keeping the record the relay would publish.
"""

from __future__ import annotations

import dataclasses
import traceback
from dataclasses import dataclass
from typing import Any

from infra.postgres.dead_letters import DeadLetter, Origin, RawRecord, storable
from infra.streaming import cloudevents
from infra.streaming.cloudevents import MalformedEventError
from infra.streaming.event_schemas import PUBLIC_TYPES
from projections.envelope import EventEnvelope


@dataclass(frozen=True)
class Delivery:
    """One record as the runner handles it.

    Attributes:
        record: Its bytes, as delivered.
        origin: Topic, partition and offset.
        envelope: The decoded event (``None`` when it does not decode).
        problem: Why it cannot be applied at all (``None``: it can be tried).
        event_id: ``ce_id``, else ``kafka:<topic>:<partition>:<offset>``.
        position: ``ce_position`` when it reads as an integer.
        subject: The aggregate (``ce_subject``, else the key), if any.
    """

    record: RawRecord
    origin: Origin
    envelope: EventEnvelope | None
    problem: str | None
    event_id: str
    position: int | None
    event_type: str | None
    subject: str | None
    tenant_id: str | None
    correlation_id: str
    traceparent: str = ""

    @property
    def tracked_position(self) -> int | None:
        """The position tracking may move to: a decoded event's only (a
        record that does not decode is not trusted to say where it stands;
        it is tracked by its offset)."""
        return None if self.envelope is None else self.envelope.position


def _integer(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _text(text: str | None) -> str | None:
    return None if text is None else storable(text)


def _read(
    raw: RawRecord, origin: Origin, headers: list[tuple[str, bytes | None]]
) -> Delivery:
    envelope: EventEnvelope | None = None
    problem: str | None = None
    try:
        envelope = cloudevents.decode(raw.value, headers)
    except MalformedEventError as e:
        problem = f"MalformedEventError: {e}"
    else:
        if envelope.type not in PUBLIC_TYPES:
            problem = f"unknown event type {envelope.type!r}: no event of this code"
    attrs = cloudevents.attributes(headers)
    key = raw.key.decode("utf-8", "backslashreplace") if raw.key else None
    coordinates = f"kafka:{origin.topic}:{origin.partition}:{origin.offset}"
    return Delivery(
        record=raw,
        origin=origin,
        envelope=envelope,
        problem=problem,
        event_id=storable(attrs.get("ce_id") or coordinates),
        position=_integer(attrs.get("ce_position")),
        event_type=_text(attrs.get("ce_type")),
        subject=_text(attrs.get("ce_subject") or key),
        tenant_id=_text(attrs.get("ce_tenantid")),
        correlation_id=attrs.get("ce_correlationid", ""),
        traceparent=attrs.get("ce_traceparent", ""),
    )


def read(record: Any, topic: str) -> Delivery:
    """A consumed Kafka record (kafka-python's ``ConsumerRecord``), read."""
    headers: list[tuple[str, bytes | None]] = list(record.headers or ())
    raw = RawRecord(
        record.key,
        record.value,
        tuple((name.encode(), value) for name, value in headers),
    )
    return _read(raw, Origin(topic, record.partition, record.offset), headers)


def reread(dead: DeadLetter) -> Delivery:
    """A dead letter's record, read again (a replay)."""
    headers = [
        (name.decode("utf-8", "backslashreplace"), value)
        for name, value in dead.record.headers
    ]
    return _read(dead.record, dead.origin, headers)


def describe(error: BaseException | str) -> tuple[str, str]:
    """An error's one-line text and traceback (a reason string has none)."""
    if isinstance(error, BaseException):
        text = f"{type(error).__name__}: {error}"
        return text, "".join(traceback.format_exception(error))
    return error, ""


def letter(
    projection: str,
    delivery: Delivery,
    error: BaseException | str,
    state: str = "parked",
) -> DeadLetter:
    """The dead letter of ``delivery`` for ``error`` (or why it waits)."""
    text, trace = describe(error)
    return DeadLetter(
        projection,
        state,
        delivery.event_id,
        delivery.record,
        delivery.origin,
        text,
        trace,
        delivery.position,
        delivery.event_type,
        delivery.subject,
        delivery.tenant_id,
    )


def stored_letter(
    projection: str, envelope: EventEnvelope, error: BaseException | str
) -> DeadLetter:
    """The dead letter of a stored event (a rebuild's): it keeps the record
    the relay publishes for it, whatever text the event holds."""
    try:
        key, value, headers = cloudevents.encode(envelope, errors="surrogatepass")
    except (TypeError, ValueError):  # data that is not JSON (never read from a store)
        empty = dataclasses.replace(envelope, data={})
        key, _, headers = cloudevents.encode(empty, errors="surrogatepass")
        value = repr(envelope.data).encode("utf-8", "surrogatepass")
    raw = RawRecord(key, value, tuple((k.encode(), v) for k, v in headers))
    text, trace = describe(error)
    return DeadLetter(
        projection,
        "parked",
        storable(envelope.id),
        raw,
        Origin(),
        text,
        trace,
        envelope.position,
        storable(envelope.type),
        storable(envelope.subject),
        storable(envelope.tenant_id),
    )
