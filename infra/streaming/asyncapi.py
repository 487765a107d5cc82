"""The AsyncAPI 3.0 document of everything AssureHub publishes.

Built from the same code as the events' JSON Schemas
(:mod:`infra.streaming.event_schemas`): one message per public event type
(current and superseded versions), each with its schema and an example made
from that schema, on three channels: the Kafka topic (CloudEvents binary
mode), the HTTP event feed (``GET /events``, ``GET /events/stream``;
CloudEvents JSON) and webhooks (Standard Webhooks, the CloudEvent in
structured JSON as the body). Served at ``/asyncapi.json`` and
``/asyncapi.yaml`` and committed as ``docs/events/asyncapi.yaml``; a test
keeps the file equal to this code, and ``make test`` validates it with the
official AsyncAPI parser.

The document depends on no setting, so the served and committed copies are
the same text; the topic name and partition count it shows are the defaults
(``ASSUREHUB_KAFKA_TOPIC``, ``ASSUREHUB_KAFKA_PARTITIONS``).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import yaml

from infra.streaming.event_schemas import current, superseded

ASYNCAPI_FILE = "asyncapi.yaml"
"""The document's file name in ``docs/events/``."""
TOPIC = "assurehub.events"
PARTITIONS = 3
_UUID = "7f1c3a52-6f2e-4a8e-9b0d-3c5e2f1a9b47"
_EXAMPLE_VALUES: dict[str, Any] = {
    "uuid": _UUID,
    "date-time": "2026-12-04T09:30:00+00:00",
    "date": "2026-12-04",
}

_KAFKA = """\
One topic holds every tenant's events. The record key is the aggregate id
(`ce_subject`), so one aggregate's events are in one partition, in version
order; there is no order across aggregates. Context attributes travel as
CloudEvents binary-mode headers (`ce_*`), the value is the event's public JSON
at its current schema version. Delivery is at least once: a consumer must
deduplicate by `ce_id` (stable per event, the same on every redelivery) or by
`ce_position` per aggregate. A consumer using kafka-python should raise
`receive_message_max_bytes` above its `fetch_max_bytes`."""

_FEED = """\
`GET /events?after=<position>&type=…&aggregate_type=…&limit=…&wait=<seconds>`
answers the caller's tenant's events after `after`, in position order, as a
JSON array of structured CloudEvents (`application/cloudevents-batch+json`);
the `Next-After` header is the position to ask after next (the last event's
position, or `after` when nothing matched). `wait` long-polls up to that many
seconds (at most 25) for the first event. `GET /events/stream` serves the same
as Server-Sent Events (`id:` = position, `event:` = type, `data:` = the
CloudEvent), resumes after `Last-Event-ID` (or `after`), and sends a comment
every 15 seconds while idle. The feed is exactly the store's log: committed
positions are gap-free in order (the store's insert takes a table lock), so
resuming from the last position seen neither skips nor repeats an event.
Only the caller's tenant, within its organization and audit scopes; needs
`events:read`. Fields marked `x-personal` are `null` unless the caller also
holds `events:read_personal`."""

_WEBHOOKS = """\
A webhook subscription receives each matching event as an HTTP POST whose body
is the CloudEvent in structured JSON (`application/cloudevents+json`), signed
as the Standard Webhooks specification says: `webhook-id` (the event's id),
`webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64
HMAC-SHA256 of "<id>.<timestamp>.<body>">`). At least once, in position order
per aggregate; deduplicate by `webhook-id`."""


def _example(schema: dict[str, Any]) -> Any:
    """A value valid under ``schema`` (the subset the event schemas use)."""
    if "anyOf" in schema:
        return _example(schema["anyOf"][0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _example(sub) for name, sub in properties.items()}
    if kind == "array":
        return [_example(schema["items"])]
    if kind == "string":
        if "pattern" in schema:
            return "0" * 64  # the only pattern: a hex SHA-256
        return _EXAMPLE_VALUES.get(schema.get("format", ""), "text")
    return {"integer": 1, "number": 1.5, "boolean": True, "null": None}[str(kind)]


def _payload(schema: dict[str, Any], deprecated: bool) -> dict[str, Any]:
    body = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
    return body | ({"deprecated": True} if deprecated else {})


def _attributes() -> dict[str, dict[str, Any]]:
    uuid = {"type": "string", "format": "uuid"}
    text = {"type": "string"}
    return {
        "id": uuid | {"description": "Stable id of the event: deduplicate by it."},
        "type": text | {"description": "Versioned public type."},
        "source": text,
        "subject": uuid | {"description": "The aggregate's id."},
        "time": {"type": "string", "format": "date-time"},
        "tenantid": text,
        "position": {"type": "integer", "minimum": 1},
        "aggregateversion": {"type": "integer", "minimum": 1},
        "actorid": text,
        "correlationid": text,
        "causationid": text,
    }


def _kafka_headers() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "content-type": {"type": "string", "const": "application/json"},
    }
    for name, attribute in _attributes().items():
        if "minimum" in attribute:  # an integer, as its decimal text
            attribute = {"type": "string", "pattern": "^[0-9]+$"}
        properties[f"ce_{name}"] = attribute
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
    }


def _cloudevent(types: list[str]) -> dict[str, Any]:
    attributes = _attributes()
    attributes["type"] = {"type": "string", "enum": types}
    return {
        "type": "object",
        "description": "A CloudEvent in structured JSON; `data` is the event's "
        "public JSON, whose schema is the message of its `type` on the Kafka "
        "channel.",
        "properties": {
            "specversion": {"type": "string", "const": "1.0"},
            "datacontenttype": {"type": "string", "const": "application/json"},
            **attributes,
            "data": {"oneOf": [{"$ref": f"#/components/schemas/{t}"} for t in types]},
        },
        "required": ["specversion", "datacontenttype", *attributes, "data"],
    }


def _kafka_message(name: str, schema: dict[str, Any], deprecated: bool) -> Any:
    example = _example(schema)
    headers = {
        "ce_specversion": "1.0",
        "ce_id": "0b9e4c1e-2d5f-5a7b-8c3d-4e5f6a7b8c9d",
        "ce_type": name,
        "ce_source": "/assurehub",
        "ce_subject": _UUID,
        "ce_time": _EXAMPLE_VALUES["date-time"],
        "content-type": "application/json",
        "ce_tenantid": "acme-cert",
        "ce_position": "42",
        "ce_aggregateversion": "1",
        "ce_actorid": "alice",
        "ce_correlationid": "req-1",
        "ce_causationid": "req-1",
    }
    note = " Superseded: stored events of this version are upcast and published "
    note += "at the current version."
    return {
        "name": name,
        "title": name,
        "summary": schema.get("description", "").split("\n")[0],
        "description": schema.get("description", "") + (note if deprecated else ""),
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/KafkaHeaders"},
        "payload": {"$ref": f"#/components/schemas/{name}"},
        "correlationId": {"location": "$message.header#/ce_correlationid"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "format": "uuid"},
                "bindingVersion": "0.5.0",
            }
        },
        "examples": [{"name": "example", "headers": headers, "payload": example}],
    }


def _structured_example(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "id": "0b9e4c1e-2d5f-5a7b-8c3d-4e5f6a7b8c9d",
        "type": name,
        "source": "/assurehub",
        "subject": _UUID,
        "time": _EXAMPLE_VALUES["date-time"],
        "tenantid": "acme-cert",
        "position": 42,
        "aggregateversion": 1,
        "actorid": "alice",
        "correlationid": "req-1",
        "causationid": "req-1",
        "data": _example(schema),
    }


def _webhook_headers() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "webhook-id": {"type": "string", "description": "The event's `id`."},
            "webhook-timestamp": {"type": "string", "pattern": "^[0-9]+$"},
            "webhook-signature": {
                "type": "string",
                "description": "Space-separated `v1,<base64 HMAC-SHA256>` "
                "signatures (two while a rotated secret's grace period lasts).",
            },
            "content-type": {"type": "string", "const": "application/cloudevents+json"},
        },
        "required": ["webhook-id", "webhook-timestamp", "webhook-signature"],
    }


def _channels(messages: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    kafka_refs = {n: {"$ref": f"#/components/messages/{n}"} for n in messages}
    return {
        "events": {
            "address": TOPIC,
            "title": "The events topic",
            "description": _KAFKA,
            "servers": [{"$ref": "#/servers/kafka"}],
            "messages": kafka_refs,
            "bindings": {
                "kafka": {
                    "topic": TOPIC,
                    "partitions": PARTITIONS,
                    "bindingVersion": "0.5.0",
                }
            },
        },
        "feed": {
            "address": "/events",
            "title": "The HTTP event feed",
            "description": _FEED,
            "servers": [{"$ref": "#/servers/api"}],
            "messages": {
                "CloudEventBatch": {
                    "name": "CloudEventBatch",
                    "title": "A page of the feed",
                    "contentType": "application/cloudevents-batch+json",
                    "payload": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/CloudEvent"},
                    },
                    "examples": [{"name": "example", "payload": [example]}],
                }
            },
        },
        "stream": {
            "address": "/events/stream",
            "title": "The HTTP event feed as Server-Sent Events",
            "description": "`text/event-stream`: one message per event, `id:` = "
            "position, `data:` = the CloudEvent in structured JSON.",
            "servers": [{"$ref": "#/servers/api"}],
            "messages": {
                "FeedEvent": {
                    "name": "FeedEvent",
                    "title": "One event of the stream",
                    "contentType": "application/cloudevents+json",
                    "payload": {"$ref": "#/components/schemas/CloudEvent"},
                    "examples": [{"name": "example", "payload": example}],
                }
            },
        },
        "webhooks": {
            "address": "{target}",
            "title": "Webhook deliveries",
            "description": _WEBHOOKS,
            "parameters": {"target": {"description": "The subscription's target URL."}},
            "messages": {
                "WebhookDelivery": {
                    "name": "WebhookDelivery",
                    "title": "One webhook delivery",
                    "contentType": "application/cloudevents+json",
                    "headers": {"$ref": "#/components/schemas/WebhookHeaders"},
                    "payload": {"$ref": "#/components/schemas/CloudEvent"},
                    "examples": [
                        {
                            "name": "example",
                            "headers": {
                                "webhook-id": example["id"],
                                "webhook-timestamp": "1796376600",
                                "webhook-signature": "v1,"
                                "K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
                                "content-type": "application/cloudevents+json",
                            },
                            "payload": example,
                        }
                    ],
                }
            },
        },
    }


def _operations(names: list[str]) -> dict[str, Any]:
    def operation(
        channel: str, action: str, summary: str, messages: list[str]
    ) -> dict[str, Any]:
        return {
            "action": action,
            "summary": summary,
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [
                {"$ref": f"#/channels/{channel}/messages/{m}"} for m in messages
            ],
        }

    return {
        "consumeEvents": operation(
            "events", "receive", "Consume the events topic (own group).", names
        ),
        "readFeed": operation(
            "feed", "receive", "Page through the feed.", ["CloudEventBatch"]
        ),
        "streamFeed": operation(
            "stream", "receive", "Follow the feed as SSE.", ["FeedEvent"]
        ),
        "receiveWebhook": operation(
            "webhooks", "receive", "Receive signed deliveries.", ["WebhookDelivery"]
        ),
    }


@cache
def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document (do not modify the returned value)."""
    old, now = superseded(), current()
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for name, schema in sorted((old | now).items()):
        deprecated = name in old and name not in now
        schemas[name] = _payload(schema, deprecated)
        messages[name] = _kafka_message(name, schema, deprecated)
    names = sorted(messages)
    first = sorted(now)[0]
    example = _structured_example(first, now[first])
    schemas["KafkaHeaders"] = _kafka_headers()
    schemas["WebhookHeaders"] = _webhook_headers()
    schemas["CloudEvent"] = _cloudevent(names)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "AssureHub events",
            "version": "1.0.0",
            "description": "Everything that happens in AssureHub, as events: "
            "on Kafka, through the HTTP feed and by webhook. Event types are "
            "versioned (`assurehub.<aggregate>.<event>.v<N>`); a breaking "
            "change to a schema makes a new version, and the old one stays "
            "described here.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The Kafka cluster (ASSUREHUB_KAFKA_BOOTSTRAP).",
            },
            "api": {
                "host": "localhost:8000",
                "protocol": "http",
                "description": "The AssureHub API.",
            },
        },
        "channels": _channels(messages, example),
        "operations": _operations(names),
        "components": {"schemas": schemas, "messages": copy.deepcopy(messages)},
    }


def as_json() -> str:
    """The document as JSON text."""
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def as_yaml() -> str:
    """The document as YAML text (the committed ``docs/events/asyncapi.yaml``)."""
    return yaml.safe_dump(document(), sort_keys=True, allow_unicode=True, width=88)
