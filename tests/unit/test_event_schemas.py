"""Every published event type has a committed JSON Schema that matches the code."""

from __future__ import annotations

import json
from pathlib import Path

from domain.organization import Organization
from infra.event_schemas import EVENT_CLASSES, render_all

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"


def test_committed_schemas_are_the_generated_ones():
    committed = {p.name: p.read_text() for p in DOCS.glob("*.json")}
    assert committed == render_all(), "run: assurehub event-schemas --write docs/events"


def test_every_event_class_with_a_public_type_has_a_schema():
    published = {
        value
        for value in vars(Organization).values()
        if isinstance(value, type) and isinstance(getattr(value, "TYPE", None), str)
    }
    assert published == set(EVENT_CLASSES)


def test_schemas_are_valid_json_schema():
    from jsonschema import Draft202012Validator

    for text in render_all().values():
        Draft202012Validator.check_schema(json.loads(text))
