"""The AsyncAPI document: generated from the event classes, committed,
served, and the rule that a published schema changes only by a new version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra.streaming import asyncapi
from infra.streaming.event_schemas import (
    EVENT_CLASSES,
    BreakingSchemaChangeError,
    breaking_change,
    current,
    superseded,
    write_all,
)
from infra.streaming.public_events import TYPE_PREFIX
from tests.in_process import Nobody, app_in_process, send

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"


def test_the_committed_document_is_the_generated_one():
    committed = (DOCS / asyncapi.ASYNCAPI_FILE).read_text()
    assert committed == asyncapi.as_yaml(), (
        "run: assurehub event-schemas --write docs/events"
    )


def test_every_event_type_is_a_message_with_its_schema_and_a_valid_example():
    from jsonschema import Draft202012Validator

    document = asyncapi.document()
    kafka = document["channels"]["events"]["messages"]
    everything = superseded() | current()
    assert set(kafka) == set(everything)
    for name, schema in everything.items():
        message = document["components"]["messages"][name]
        assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
        Draft202012Validator(schema).validate(message["examples"][0]["payload"])
        assert name.startswith(TYPE_PREFIX)
        assert name.rsplit(".", 1)[1].startswith("v")


def test_superseded_versions_are_described_and_marked_deprecated():
    document = asyncapi.document()
    for name in superseded():
        assert name not in current()
        assert document["components"]["schemas"][name]["deprecated"] is True
    # Every event class at version N > 1 still describes versions 1..N-1.
    for event_class in EVENT_CLASSES:
        version = getattr(event_class, "class_version", 1)
        stem = f"{TYPE_PREFIX}{event_class.TYPE}"
        for older in range(1, version):
            assert f"{stem}.v{older}" in superseded()


def test_served_at_asyncapi_json_and_yaml_without_credentials():
    app = app_in_process(Nobody())
    as_json, as_yaml = send(
        app,
        [
            {"method": "GET", "url": "/asyncapi.json"},
            {"method": "GET", "url": "/asyncapi.yaml"},
        ],
    )
    assert as_json.status_code == as_yaml.status_code == 200
    assert json.loads(as_json.text) == yaml.safe_load(as_yaml.text)
    assert json.loads(as_json.text)["asyncapi"] == "3.0.0"


def test_a_description_change_is_not_breaking_a_field_change_is():
    schema = current()["assurehub.organization.renamed.v1"]
    reworded = json.loads(json.dumps(schema))
    reworded["description"] = "Reworded."
    assert not breaking_change(schema, reworded)
    added = json.loads(json.dumps(schema))
    added["properties"]["reason"] = {"type": "string"}
    assert breaking_change(schema, added)


def test_writing_refuses_to_change_a_published_schema_in_place(tmp_path):
    write_all(tmp_path)
    path = tmp_path / "assurehub.organization.renamed.v1.json"
    published = json.loads(path.read_text())
    published["properties"]["legacy"] = {"type": "string"}
    published["required"].append("legacy")
    path.write_text(json.dumps(published))
    with pytest.raises(BreakingSchemaChangeError, match="class_version"):
        write_all(tmp_path)
    assert "legacy" in path.read_text()  # nothing written


def test_every_committed_schema_is_kept_without_a_breaking_change():
    for path in DOCS.glob("assurehub.*.json"):
        generated = (superseded() | current()).get(path.name.removesuffix(".json"))
        assert generated is not None, f"{path.name} is no longer described"
        assert not breaking_change(json.loads(path.read_text()), generated), (
            f"{path.name} changed: a breaking change needs a new class_version"
        )
