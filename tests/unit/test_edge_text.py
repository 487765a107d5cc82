"""Every request body is one strict model, and every text it carries (and
every text path parameter) follows the text rule: what the OpenAPI states
as the field's pattern is what validation does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from unittest.mock import MagicMock

import pytest
from pydantic import BaseModel, ValidationError

from commands.http.schemas import StrictBody
from commands.http.text import MULTILINE_PATTERN, SINGLE_LINE_PATTERN
from read_api.app import create_app

Loc = tuple[str | int, ...]
REFUSED = ["\x00", "\ud800", "\x1b", "\x7f", "\x85", "\uffff"]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(MagicMock()).openapi()


def strict_models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = [StrictBody]
    while pending:
        model = pending.pop()
        found[model.__name__] = model
        pending.extend(model.__subclasses__())
    return found


def request_bodies(spec: dict[str, Any]) -> set[str]:
    names = set()
    for operations in spec["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            for option in [schema, *schema.get("anyOf", [])]:
                if "$ref" in option:
                    names.add(option["$ref"].rsplit("/", 1)[-1])
    return names


def text_leaves(
    schema: dict[str, Any], defs: dict[str, Any], loc: Loc = ()
) -> Iterator[tuple[Loc, dict[str, Any]]]:
    """Every free-text string in ``schema`` (not enums, dates or ids)."""
    if "$ref" in schema:
        yield from text_leaves(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, loc)
    for option in schema.get("anyOf", []):
        yield from text_leaves(option, defs, loc)
    kind = schema.get("type")
    if kind == "object":
        for name, field in schema.get("properties", {}).items():
            yield from text_leaves(field, defs, (*loc, name))
    elif kind == "array":
        yield from text_leaves(schema["items"], defs, (*loc, 0))
    elif kind == "string" and not {"enum", "const", "format"} & schema.keys():
        yield loc, schema


def placed(loc: Loc, value: str) -> Any:
    if not loc:
        return value
    head, *rest = loc
    inner = placed(tuple(rest), value)
    return [inner] if isinstance(head, int) else {head: inner}


def text_errors(model: type[BaseModel], loc: Loc, value: str) -> list[str]:
    try:
        model.model_validate(placed(loc, value))
    except ValidationError as e:
        return [err["type"] for err in e.errors() if err["loc"] == loc]
    return []


def leaves(spec) -> Iterator[tuple[type[BaseModel], Loc, dict[str, Any]]]:
    models = strict_models()
    for name in sorted(request_bodies(spec)):
        model = models[name]
        schema = model.model_json_schema()
        yield from (
            (model, loc, s) for loc, s in text_leaves(schema, schema.get("$defs", {}))
        )


def test_every_json_request_body_is_a_strict_body(spec):
    bodies = request_bodies(spec)
    assert len(bodies) > 40
    assert bodies <= strict_models().keys()


def test_every_text_field_refuses_nul_surrogates_and_controls_naming_itself(spec):
    checked = 0
    for model, loc, _ in leaves(spec):
        for bad in REFUSED:
            assert text_errors(model, loc, f"ok{bad}") == ["unsafe_character"], (
                model.__name__,
                loc,
                bad,
            )
        checked += 1
    assert checked > 60


def test_line_breaks_are_refused_exactly_where_the_schema_says_single_line(spec):
    multiline = 0
    for model, loc, schema in leaves(spec):
        errors = text_errors(model, loc, "first\nsecond")
        if schema["pattern"] == MULTILINE_PATTERN:
            multiline += 1
            assert "unsafe_character" not in errors, (model.__name__, loc)
        else:
            assert errors == ["unsafe_character"], (model.__name__, loc)
    assert multiline >= 15


def test_the_openapi_states_the_rule_as_each_text_field_s_pattern(spec):
    components = spec["components"]["schemas"]
    for name in request_bodies(spec):
        for loc, schema in text_leaves(components[name], components):
            pattern = re.compile(schema.get("pattern", ""))
            for bad in ("ok\x00", "ok\x85", "ok\x1f"):
                assert not pattern.search(bad), (name, loc, schema)
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            for p in operation.get("parameters", []):
                if p["in"] == "path" and "format" not in p["schema"]:
                    assert p["schema"]["pattern"] == SINGLE_LINE_PATTERN, (path, p)


def test_fields_with_a_stricter_pattern_keep_it_in_the_openapi(spec):
    schemas = spec["components"]["schemas"]
    clause = schemas["ClauseCreate"]["properties"]
    assert clause["clause_id"]["pattern"].startswith("^[A-Za-z0-9]")
    assert clause["parent_id"]["anyOf"][0]["pattern"].startswith("^[A-Za-z0-9]")
    assert schemas["LoginCreate"]["properties"]["tenant"]["pattern"].startswith(
        "^[a-z0-9]"
    )
    verification = schemas["CertificateVerificationCreate"]["properties"]
    assert verification["number"]["pattern"].startswith("^[A-Za-z0-9]{2,12}-")
