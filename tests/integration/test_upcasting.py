"""An event stored at an old version is upcast on read, never rewritten."""

from __future__ import annotations

import json
import uuid

from domain.organization import Organization
from infra.eventstore.store import EVENTS_TABLE
from tests.kafka_helpers import consume_until, headers, new_topic

V1_STATE = {
    "timestamp": {"_type_": "datetime_iso", "_data_": "2026-01-05T09:00:00+00:00"},
    "originator_topic": "domain.organization:Organization",
    "meta": {
        "_type_": "event_meta",
        "_data_": {
            "tenant_id": "tenant-upcast",
            "actor_id": "alice",
            "correlation_id": "req-v1",
            "causation_id": "req-v1",
        },
    },
    "name": "Legacy Ltd",
    "country": "DE",
}


def store_v1_registration(container) -> uuid.UUID:
    """Write a version 1 'registered' row as the store held it before v2."""
    org_id = uuid.uuid4()
    with container.database.connection() as conn:
        conn.execute(
            f"INSERT INTO {EVENTS_TABLE}"
            " (originator_id, originator_version, topic, state)"
            " VALUES (%s, 1, %s, %s)",
            (
                org_id,
                "domain.organization:Organization.Registered",
                json.dumps(V1_STATE).encode(),
            ),
        )
    return org_id


def test_a_stored_v1_event_loads_as_v2_and_its_row_is_unchanged(container):
    org_id = store_v1_registration(container)
    org = container.event_store.load(Organization, org_id)
    assert org is not None
    assert (org.name, org.country, org.registration_number) == (
        "Legacy Ltd",
        "DE",
        None,
    )
    with container.database.connection() as conn:
        [state] = conn.execute(
            f"SELECT state FROM {EVENTS_TABLE} WHERE originator_id = %s",
            (org_id,),
        ).fetchone()
    assert json.loads(bytes(state)) == V1_STATE


def test_the_stream_carries_the_upcast_event_at_the_current_version(
    container, migrated, make_relay
):
    org_id = store_v1_registration(container)
    topic = new_topic(migrated)
    relay = make_relay(topic)
    while relay.step() is not None:
        pass
    records = consume_until(
        migrated,
        topic,
        lambda rs: str(org_id) in {headers(r)["ce_subject"] for r in rs},
    )
    [record] = [r for r in records if headers(r)["ce_subject"] == str(org_id)]
    assert headers(record)["ce_type"] == "assurehub.organization.registered.v2"
    assert json.loads(record.value) == {
        "name": "Legacy Ltd",
        "country": "DE",
        "registration_number": None,
    }
