"""Every published event type has a committed JSON Schema that matches the code."""

from __future__ import annotations

import json
from pathlib import Path

from infra.streaming.event_schemas import AGGREGATES, EVENT_CLASSES, render_all
from infra.streaming.public_events import public_type

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"


def test_committed_schemas_are_the_generated_ones():
    committed = {p.name: p.read_text() for p in DOCS.glob("*.json")}
    rendered = render_all()
    assert committed == rendered, "run: assurehub event-schemas --write docs/events"
    current = {f"{public_type(c)}.json" for c in EVENT_CLASSES}
    # Older versions stay documented for consumers of old records, and only
    # those: every other file is an earlier version of a current type.
    for name in set(committed) - current:
        stem, version = name.removesuffix(".json").rsplit(".v", 1)
        newer = [n for n in current if n.startswith(f"{stem}.v")]
        assert newer, f"{name} documents no current event type"
        assert all(
            int(n.removesuffix(".json").rsplit(".v", 1)[1]) > int(version)
            for n in newer
        )


def test_every_aggregate_in_the_domain_publishes_its_events():
    import importlib
    import pkgutil

    from eventsourcing.domain import Aggregate

    import domain

    found = set()
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{info.name}")
        found |= {
            v
            for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, Aggregate) and v is not Aggregate
        }
    assert found == set(AGGREGATES)


def test_every_event_type_is_unique_and_past_tense_snake_case():
    types = [c.TYPE for c in EVENT_CLASSES]
    assert len(types) == len(set(types))
    for t in types:
        aggregate, event = t.split(".")
        assert aggregate.replace("_", "").isalpha()
        assert event.islower()


def test_schemas_are_valid_json_schema():
    from jsonschema import Draft202012Validator

    for text in render_all().values():
        Draft202012Validator.check_schema(json.loads(text))
