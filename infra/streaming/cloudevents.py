"""CloudEvents 1.0 Kafka protocol binding, binary content mode.

Context attributes travel as ``ce_*`` headers; the record value is the public
JSON body; the record key is the aggregate id, so one aggregate's events stay
in one partition, in version order. AssureHub's extension attributes are
lower-case alphanumerics as the spec requires: ``tenantid``, ``position``,
``aggregateversion``, ``actorid``, ``correlationid``, ``causationid``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson

from infra.errors import InfrastructureError
from projections.envelope import EventEnvelope

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

Headers = list[tuple[str, bytes]]


class MalformedEventError(InfrastructureError, ValueError):
    """A record is not a CloudEvent this codec understands."""


def encode(
    envelope: EventEnvelope, errors: str = "strict"
) -> tuple[bytes, bytes, Headers]:
    """Key, value and headers of the Kafka record for ``envelope``.

    ``errors`` is how text that UTF-8 cannot encode (a lone surrogate) is
    handled: refused by default; ``surrogatepass`` keeps it as the (invalid)
    bytes, for a dead letter that must keep whatever the event held.
    """
    attributes = [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", envelope.id),
        ("ce_type", envelope.type),
        ("ce_source", envelope.source),
        ("ce_subject", envelope.subject),
        ("ce_time", envelope.time.isoformat()),
        ("content-type", CONTENT_TYPE),
        ("ce_tenantid", envelope.tenant_id),
        ("ce_position", str(envelope.position)),
        ("ce_aggregateversion", str(envelope.aggregate_version)),
        ("ce_actorid", envelope.actor_id),
        ("ce_correlationid", envelope.correlation_id),
        ("ce_causationid", envelope.causation_id),
    ]
    if envelope.traceparent:  # CloudEvents distributed-tracing extension
        attributes.append(("ce_traceparent", envelope.traceparent))
    encoded: Headers = [(k, v.encode("utf-8", errors)) for k, v in attributes]
    value = json.dumps(envelope.data, separators=(",", ":"), sort_keys=True).encode()
    return envelope.subject.encode("utf-8", errors), value, encoded


def attributes(headers: Sequence[tuple[str, bytes | None]]) -> dict[str, str]:
    """The ``ce_*`` headers of a record as text, whatever they hold (bytes
    that are not UTF-8 written as ``\\xNN``, null values left out)."""
    return {
        k: bytes(v).decode("utf-8", "backslashreplace")
        for k, v in headers
        if k.startswith("ce_") and v is not None
    }


def decode(
    value: bytes | None, headers: Sequence[tuple[str, bytes | None]]
) -> EventEnvelope:
    """The envelope of a record produced by :func:`encode`.

    Raises:
        MalformedEventError: a required attribute is missing or unparsable,
            or the value is not a JSON object.
    """
    try:
        attrs = {
            k: bytes(v).decode()
            for k, v in headers
            if k.startswith("ce_") and v is not None
        }
        if attrs["ce_specversion"] != SPEC_VERSION:
            raise MalformedEventError(
                f"unsupported specversion {attrs['ce_specversion']}"
            )
        try:
            data = json.loads(value) if value is not None else None
        except ValueError as e:
            raise MalformedEventError(f"the value is not JSON: {e}") from e
        if not isinstance(data, dict):
            raise MalformedEventError("event data is not a JSON object")
        return EventEnvelope(
            id=attrs["ce_id"],
            type=attrs["ce_type"],
            source=attrs["ce_source"],
            subject=attrs["ce_subject"],
            time=datetime.fromisoformat(attrs["ce_time"]),
            tenant_id=attrs["ce_tenantid"],
            position=int(attrs["ce_position"]),
            aggregate_version=int(attrs["ce_aggregateversion"]),
            actor_id=attrs["ce_actorid"],
            correlation_id=attrs["ce_correlationid"],
            causation_id=attrs["ce_causationid"],
            data=data,
            traceparent=attrs.get("ce_traceparent", ""),
        )
    except MalformedEventError:
        raise
    except KeyError as e:
        raise MalformedEventError(f"the header {e.args[0]} is missing") from e
    except (ValueError, TypeError) as e:
        raise MalformedEventError(f"not an AssureHub CloudEvent: {e}") from e


STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"


def structured(envelope: EventEnvelope) -> dict[str, Any]:
    """The CloudEvent of ``envelope`` in structured mode (JSON event format):
    the attributes :func:`encode` puts in headers, with the body as ``data``.

    The integer extensions (``position``, ``aggregateversion``) are JSON
    numbers here, the JSON format's form of a CloudEvents Integer; in Kafka
    headers they are their decimal text.
    """
    return structured_of(
        envelope.id,
        envelope.type,
        envelope.source,
        envelope.subject,
        envelope.time.isoformat(),
        envelope.tenant_id,
        envelope.position,
        envelope.aggregate_version,
        envelope.actor_id,
        envelope.correlation_id,
        envelope.causation_id,
        envelope.data,
    )


def structured_of(
    event_id: str,
    event_type: str,
    source: str,
    subject: str,
    time: str,
    tenant_id: str,
    position: int,
    aggregate_version: int,
    actor_id: str,
    correlation_id: str,
    causation_id: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """:func:`structured` of an event's parts (``time`` in ISO 8601), for a
    reader that never makes the envelope."""
    return {
        "specversion": SPEC_VERSION,
        "id": event_id,
        "type": event_type,
        "source": source,
        "subject": subject,
        "time": time,
        "datacontenttype": CONTENT_TYPE,
        "tenantid": tenant_id,
        "position": position,
        "aggregateversion": aggregate_version,
        "actorid": actor_id,
        "correlationid": correlation_id,
        "causationid": causation_id,
        "data": data,
    }


_ORJSON_SAME = frozenset({str, int, bool, type(None)})
"""Value types orjson writes as ``json.dumps(..., ensure_ascii=False)`` does
(an ``int`` only within 64 bits, else orjson refuses it); floats differ
(``1e-05`` against ``0.00001``)."""


def _orjson_same(values: Iterable[Any]) -> bool:
    same = _ORJSON_SAME
    for value in values:
        kind = type(value)
        if kind in same:
            continue
        if kind is dict:
            if not all(type(k) is str for k in value) or not _orjson_same(
                value.values()
            ):
                return False
        elif kind is not list or not _orjson_same(value):
            return False
    return True


def to_json(value: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    """Structured CloudEvents (one, or a batch) as UTF-8 JSON: byte for byte
    what ``json.dumps(value, ensure_ascii=False, allow_nan=False,
    separators=(",", ":"))`` encodes (what a ``JSONResponse`` sends), made
    by orjson where its output is the same, else by :mod:`json` (which then
    raises what it raises)."""
    events = value if isinstance(value, list) else [value]
    if all(_orjson_same(e["data"].values()) for e in events):
        try:
            return orjson.dumps(value)
        except orjson.JSONEncodeError:
            pass  # text orjson refuses (a lone surrogate), a 65-bit int
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")
