"""Personal fields are masked by the one function the feed uses, and the
masked form is what the feed's documented schema allows."""

from __future__ import annotations

from datetime import UTC, datetime

from jsonschema import Draft202012Validator

from infra.streaming.event_schemas import current
from infra.streaming.personal_fields import masked, masked_schema, personal_fields
from projections.envelope import EventEnvelope

INVITED = "assurehub.account.invited.v1"


def _envelope(event_type: str, data: dict) -> EventEnvelope:
    return EventEnvelope(
        id="e",
        type=event_type,
        source="/assurehub",
        subject="s",
        time=datetime(2026, 12, 4, tzinfo=UTC),
        tenant_id="t",
        position=1,
        aggregate_version=1,
        actor_id="a",
        correlation_id="c",
        causation_id="c",
        data=data,
    )


def test_the_personal_fields_are_the_ones_the_schema_marks():
    for name, schema in current().items():
        marked = {p for p, s in schema["properties"].items() if s.get("x-personal")}
        assert personal_fields(name) == marked, name


def test_masking_nulls_exactly_the_personal_fields():
    data = {
        "email": "pat@example.com",
        "name": "Pat Person",
        "roles": ["auditor"],
        "organization_ids": [],
        "expires_at": "2026-12-11T00:00:00+00:00",
    }
    hidden = masked(_envelope(INVITED, data))
    assert hidden.data == data | {"email": None, "name": None}
    assert hidden.id == "e"  # the context is untouched
    Draft202012Validator(masked_schema(current()[INVITED])).validate(hidden.data)
    renamed = _envelope("assurehub.organization.renamed.v1", {"name": "Acme"})
    assert masked(renamed) is renamed  # nothing personal: as stored
