"""The security events read model, from hand-built envelopes carrying the
identity events' public types and fields (as the relay publishes them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from uuid import uuid4

import pytest

from projections.envelope import EventEnvelope
from projections.rows import MemoryRows, Row
from projections.security_events import (
    KINDS,
    SECURITY_EVENTS,
    SecurityEventsProjection,
    kind_of,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"
TENANT = "acme-cert"
ADMIN = str(uuid4())
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_positions = count(1)


def envelope(kind: str, data: dict, subject: str | None = None) -> EventEnvelope:
    position = next(_positions)
    return EventEnvelope(
        id=str(uuid4()),
        type=f"assurehub.{kind}.v1",
        source="/assurehub",
        subject=subject or str(uuid4()),
        time=T0 + timedelta(minutes=position),
        tenant_id=TENANT,
        position=position,
        aggregate_version=1,
        actor_id=ADMIN,
        correlation_id="req-1",
        causation_id="req-1",
        data=data,
    )


def project(*envelopes: EventEnvelope) -> MemoryRows:
    projection = SecurityEventsProjection()
    store = MemoryRows(projection.tables)
    for e in envelopes:
        projection.apply(e, store)
    return store


def rows(store: MemoryRows) -> list[Row]:
    return list(store.rows(SECURITY_EVENTS.name))


def test_a_failed_login_is_recorded_with_its_address_and_reason():
    failed = envelope(
        "account.login_failed", {"reason": "bad_password", "address": "203.0.113.7"}
    )
    [row] = rows(project(failed))
    assert row["kind"] == "account.login_failed"
    assert str(row["id"]) == failed.id
    assert str(row["subject_id"]) == failed.subject
    assert (row["actor_id"], row["position"]) == (ADMIN, failed.position)
    assert row["occurred_at"] == failed.time
    assert row["address"] == "203.0.113.7"
    assert row["detail"] == {"reason": "bad_password"}


def test_an_invitation_keeps_roles_and_scope_but_no_email_or_name():
    org = str(uuid4())
    invited = envelope(
        "account.invited",
        {
            "email": "jane.doe@example.com",
            "name": "Jane Doe",
            "roles": ["client_user"],
            "organization_ids": [org],
            "expires_at": "2026-03-05T09:00:00+00:00",
        },
    )
    [row] = rows(project(invited))
    assert row["detail"] == {
        "roles": ["client_user"],
        "organization_ids": [org],
        "expires_at": "2026-03-05T09:00:00+00:00",
    }
    everything = json.dumps(row, default=str)
    assert "jane.doe@example.com" not in everything
    assert "Jane Doe" not in everything
    assert row["address"] is None


def test_a_field_added_to_an_event_later_stays_out_of_the_detail():
    succeeded = envelope(
        "account.login_succeeded",
        {
            "method": "totp",
            "address": "198.51.100.4",
            "session_id": "6f1c1f5e-6a43-4c55-9a34-0d6b8a5e8a11",
            "email": "jane.doe@example.com",
            "phone": "+44 20 7946 0000",
        },
    )
    [row] = rows(project(succeeded))
    assert row["detail"] == {
        "method": "totp",
        "session_id": "6f1c1f5e-6a43-4c55-9a34-0d6b8a5e8a11",
    }
    assert row["address"] == "198.51.100.4"


@pytest.mark.parametrize("kind", ["api_token.issued", "tenant.created"])
def test_the_name_of_a_token_or_tenant_is_kept(kind):
    [row] = rows(project(envelope(kind, {"name": "CI exporter"})))
    assert row["detail"] == {"name": "CI exporter"}


def test_a_redelivered_event_is_recorded_once():
    locked = envelope(
        "account.locked_out",
        {
            "stage": "password",
            "until": "2026-03-02T09:15:00+00:00",
            "address": "203.0.113.7",
        },
    )
    store = project(locked, locked)
    [row] = rows(store)
    assert row["detail"] == {
        "stage": "password",
        "until": "2026-03-02T09:15:00+00:00",
    }


def test_every_listed_kind_is_recorded_and_nothing_else():
    listed = [envelope(kind, {}) for kind in KINDS]
    others = [
        envelope("account.invitation_reissued", {"expires_at": T0.isoformat()}),
        envelope("organization.renamed", {"name": "Acme"}),
        envelope("audit.planned", {}),
    ]
    store = project(*listed, *others)
    assert sorted(r["kind"] for r in rows(store)) == sorted(KINDS)


def test_a_later_version_of_a_type_is_recorded_under_the_same_kind():
    v2 = envelope("tenant_settings.mfa_policy_changed", {"required_for_all": True})
    v2 = EventEnvelope(**{**v2.__dict__, "type": v2.type.replace(".v1", ".v2")})
    [row] = rows(project(v2))
    assert row["kind"] == "tenant_settings.mfa_policy_changed"
    assert row["detail"] == {"required_for_all": True}


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("assurehub.account.login_failed.v1", "account.login_failed"),
        (
            "assurehub.tenant_settings.mfa_policy_changed.v12",
            "tenant_settings.mfa_policy_changed",
        ),
        ("account.login_failed.v1", None),
        ("assurehub.account.login_failed", None),
    ],
)
def test_the_kind_is_the_type_without_prefix_and_version(event_type, kind):
    assert kind_of(event_type) == kind


@pytest.mark.parametrize("kind", KINDS)
def test_the_detail_keeps_every_field_the_schema_does_not_mark_personal(kind):
    schema = json.loads((SCHEMAS / f"assurehub.{kind}.v1.json").read_text())
    fields = schema["properties"]
    personal = {n for n, field in fields.items() if field.get("x-personal")}
    data = {name: f"value of {name}" for name in fields}
    [row] = rows(project(envelope(kind, data)))
    assert set(row["detail"]) == set(fields) - personal
    assert personal <= {"email", "name", "address"}
