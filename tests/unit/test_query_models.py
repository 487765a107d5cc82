"""Every answer the API documents is typed, and the query models say what the
read-model rows hold: a model's fields are its table's columns, of the same
types, all present in every answer."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest
from pydantic import BaseModel

from projections.audit_tables import ASSESSMENTS
from projections.collections import (
    AUDITS,
    CERTIFICATES,
    DOCUMENT_TEMPLATES,
    EVIDENCE,
    FINDINGS,
    ORGANIZATIONS,
    SECURITY_EVENTS,
    STANDARD_TEMPLATES,
    USERS,
)
from projections.listing import base_type
from projections.rows import Column, Table
from projections.templates import DOCUMENT_VERSIONS, STANDARD_VERSIONS, TABLES
from read_api.app import create_app
from read_api.schemas.audits import AssessmentPublic, AuditPublic
from read_api.schemas.certificates import CertificatePublic
from read_api.schemas.findings import EvidencePublic, FindingPublic
from read_api.schemas.organizations import OrganizationPublic
from read_api.schemas.templates import (
    DocumentTemplatePublic,
    DocumentTemplateVersionPublic,
    StandardTemplatePublic,
    StandardTemplateVersionPublic,
)
from read_api.schemas.users import SecurityEventPublic, UserPublic
from tests.openapi_answers import answer_validator, resolve

TEMPLATE_TABLES = {t.name: t for t in TABLES}
LIST_ROWS: list[tuple[type[BaseModel], Any, tuple[str, ...]]] = [
    (OrganizationPublic, ORGANIZATIONS, ()),
    (AuditPublic, AUDITS, ()),
    (FindingPublic, FINDINGS, ("overdue",)),
    (EvidencePublic, EVIDENCE, ()),
    (CertificatePublic, CERTIFICATES, ()),
    (StandardTemplatePublic, STANDARD_TEMPLATES, ()),
    (DocumentTemplatePublic, DOCUMENT_TEMPLATES, ()),
    (UserPublic, USERS, ()),
    (SecurityEventPublic, SECURITY_EVENTS, ()),
]
"""A collection's row model, its listing, and the columns its route derives."""
CHILD_ROWS: list[tuple[type[BaseModel], Table]] = [
    (AssessmentPublic, ASSESSMENTS),
    (StandardTemplateVersionPublic, TEMPLATE_TABLES[STANDARD_VERSIONS]),
    (DocumentTemplateVersionPublic, TEMPLATE_TABLES[DOCUMENT_VERSIONS]),
]
"""Rows a detail reads from a child table: every column but the tenant."""

COLUMN_SHAPES: dict[str, tuple[Any, ...]] = {
    "uuid": ("string", "uuid"),
    "text": ("string", None),
    "integer": ("integer", None),
    "bigint": ("integer", None),
    "boolean": ("boolean", None),
    "date": ("string", "date"),
    "timestamptz": ("string", "date-time"),
    "text[]": ("array", ("string", None)),
    "uuid[]": ("array", ("string", "uuid")),
}
"""What JSON each column type is answered as (``jsonb``: an array or object)."""


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(MagicMock()).openapi()


def operations(spec: dict[str, Any]):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def untyped(spec: dict[str, Any], schema: Any, where: str, seen: set[str]) -> list[str]:
    """Places in ``schema`` that say nothing of the value's type."""
    if not isinstance(schema, dict):
        return [where]
    ref = schema.get("$ref")
    if ref is not None:
        if ref in seen:
            return []
        seen.add(ref)
        return untyped(spec, resolve(spec, schema), ref, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return [
                found
                for i, option in enumerate(schema[key])
                for found in untyped(spec, option, f"{where}/{key}/{i}", seen)
            ]
    if "enum" in schema or "const" in schema:
        return []
    kind = schema.get("type")
    if kind == "array":
        return untyped(spec, schema.get("items"), f"{where}/items", seen)
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        if not properties and not isinstance(extra, dict):
            return [where]
        found = [
            place
            for name, value in properties.items()
            for place in untyped(spec, value, f"{where}.{name}", seen)
        ]
        if isinstance(extra, dict):
            found += untyped(spec, extra, f"{where}.*", seen)
        return found
    return [] if kind in ("string", "integer", "number", "boolean", "null") else [where]


def test_no_operation_documents_an_untyped_success_answer(spec):
    found = []
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            for media, content in response.get("content", {}).items():
                where = f"{method.upper()} {path} {status} {media}"
                found += untyped(spec, content.get("schema"), where, set())
    assert found == []


def test_the_check_finds_empty_and_untyped_object_schemas(spec):
    assert untyped(spec, {}, "x", set()) == ["x"]
    assert untyped(spec, {"type": "object"}, "x", set()) == ["x"]
    assert untyped(spec, {"type": "array", "items": {}}, "x", set()) == ["x/items"]
    nested = {"type": "object", "properties": {"a": {"title": "A"}}}
    assert untyped(spec, nested, "x", set()) == ["x.a"]
    assert untyped(spec, {"type": "object", "additionalProperties": True}, "x", set())
    assert untyped(spec, {"$ref": "#/components/schemas/AuditPage"}, "x", set()) == []


def shape(schema: dict[str, Any], defs: dict[str, Any]) -> tuple[Any, ...]:
    """``(json type, format or item shape)`` of a property, and whether null
    is allowed, as the last element."""
    options = schema.get("anyOf", [schema])
    nullable = {"type": "null"} in options
    [value] = [o for o in options if o != {"type": "null"}]
    if "$ref" in value:
        value = defs[value["$ref"].rsplit("/", 1)[1]]
    kind = value.get("type", "object")
    if kind == "array":
        return ("array", shape(value["items"], defs)[:2], nullable)
    return (kind, value.get("format"), nullable)


def column_shape(column: Column) -> tuple[Any, ...]:
    return (*COLUMN_SHAPES[base_type(column)], column.nullable)


def assert_rows_match(model: type[BaseModel], columns: list[Column], derived=()):
    schema = model.model_json_schema()
    properties, defs = schema["properties"], schema.get("$defs", {})
    assert list(properties) == [c.name for c in columns] + list(derived), model
    assert sorted(schema["required"]) == sorted(properties), model
    for column in columns:
        found = shape(properties[column.name], defs)
        if base_type(column) == "jsonb":
            assert found[0] in ("array", "object"), (model, column)
            assert found[-1] == column.nullable, (model, column)
        else:
            assert found == column_shape(column), (model, column.name, found)


@pytest.mark.parametrize(
    ("model", "listing", "derived"), LIST_ROWS, ids=[m.__name__ for m, *_ in LIST_ROWS]
)
def test_a_list_row_model_is_its_listings_columns(model, listing, derived):
    columns = [listing.column(name) for name in listing.output_columns]
    assert_rows_match(model, columns, derived)


@pytest.mark.parametrize(
    ("model", "table"), CHILD_ROWS, ids=[m.__name__ for m, _ in CHILD_ROWS]
)
def test_a_child_row_model_is_its_tables_columns(model, table):
    assert_rows_match(model, [c for c in table.columns if c.name != "tenant_id"])


def test_the_row_check_notices_a_missing_or_mistyped_column():
    class Missing(BaseModel):
        id: str

    class Mistyped(BaseModel):
        id: str
        note: int | None

    columns = [Column("id", "text", False), Column("note", "text")]
    with pytest.raises(AssertionError):
        assert_rows_match(Missing, columns)
    with pytest.raises(AssertionError):
        assert_rows_match(Mistyped, columns)


def test_every_query_answer_shows_examples_that_match_it(spec):
    for path, method, op in operations(spec):
        content = op["responses"].get("200", {}).get("content", {})
        if method != "get" or "application/json" not in content:
            continue
        schema = content["application/json"]["schema"]
        model = resolve(spec, schema.get("items", schema))
        assert model.get("examples"), (path, model.get("title"))
        validator = answer_validator(spec, schema.get("items", schema))
        for example in model["examples"]:
            errors = [e.message for e in validator.iter_errors(example)]
            assert errors == [], (path, errors)
