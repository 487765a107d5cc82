"""Check an answer against the schema the OpenAPI document gives it, exactly:
every documented field present (the models mark them required), no field
the document does not name, and formats (uuid, date, date-time) enforced."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

FORMATS = FormatChecker(["uuid", "date"])


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def closed(schema: Any) -> Any:
    """``schema`` with every object that lists properties closed to others."""
    if isinstance(schema, dict):
        found = {k: closed(v) for k, v in schema.items()}
        if "properties" in found and "additionalProperties" not in found:
            found["additionalProperties"] = False
        return found
    if isinstance(schema, list):
        return [closed(v) for v in schema]
    return schema


def answer_validator(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A validator of ``schema`` (which may ``$ref`` the document's
    components), closed and format-checking."""
    root = {**copy.deepcopy(schema), "components": closed(spec["components"])}
    return Draft202012Validator(closed(root), format_checker=FORMATS)


def json_answer_schema(
    spec: dict[str, Any], path: str, method: str, status: str = "200"
) -> dict[str, Any]:
    """The documented JSON schema of an operation's answer."""
    content = spec["paths"][path][method]["responses"][status]["content"]
    schema: dict[str, Any] = content["application/json"]["schema"]
    return schema


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or the component it refers to."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found
