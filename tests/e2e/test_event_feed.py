"""The HTTP event feed and the two example consumers in ``docs/examples/``,
as an integrator would run them against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

from infra.streaming import cloudevents, kafka
from infra.streaming.personal_fields import masked
from infra.streaming.stored_envelopes import StoredEnvelopes
from tests.e2e.conftest import api_with, as_user
from tests.kafka_helpers import consume_until, headers

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _tenant() -> str:
    return f"feed-{uuid.uuid4().hex[:8]}"


def _register(http: httpx.Client, tenant: str, name: str) -> dict:
    answer = http.post(
        "/organizations",
        json={"name": name, "country": "SE"},
        headers=as_user(tenant, "tenant_admin"),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _stored(container, tenant: str, *, personal: bool) -> list[dict]:
    """The tenant's CloudEvents as the store holds them (what the relay
    would publish), personal fields masked unless ``personal``."""
    envelopes = StoredEnvelopes(container.event_store, container.settings.event_source)
    every = (
        envelopes.envelope(n, n.id) for n in container.event_store.read_after(0, 10**6)
    )
    return [
        cloudevents.structured(e if personal else masked(e))
        for e in every
        if e.tenant_id == tenant
    ]


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_the_feed_example_resumes_from_its_saved_position(
    http, base_url, pipeline, tmp_path
):
    tenant = _tenant()
    issued = http.post(
        "/api-tokens",
        json={
            "name": "feed example",
            "roles": ["compliance_officer"],
            "scopes": ["events:read"],
        },
        headers=as_user(tenant, "tenant_admin"),
    )
    assert issued.status_code == 201, issued.text
    _register(http, tenant, "First AB")
    position_file = tmp_path / "position.txt"

    def run() -> list[dict]:
        done = subprocess.run(
            [
                sys.executable,
                str(EXAMPLES / "feed_consumer.py"),
                "--base-url",
                base_url,
                "--position-file",
                str(position_file),
                "--wait",
                "0",
                "--until-idle",
            ],
            env={**os.environ, "ASSUREHUB_TOKEN": issued.json()["token"]},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return _lines(done.stdout)

    first = run()
    stored = _stored(pipeline, tenant, personal=False)
    assert first == stored  # api_token.issued and organization.registered
    second_org = _register(http, tenant, "Second AB")
    second = run()
    assert [e["subject"] for e in second] == [second_org["id"]]
    assert first + second == _stored(pipeline, tenant, personal=False)
    assert int(position_file.read_text()) == second[-1]["position"]


def test_personal_fields_only_with_events_read_personal(http, pipeline):
    tenant = _tenant()
    invited = http.post(
        "/users/invitations",
        json={
            "email": f"{uuid.uuid4().hex[:8]}@example.com",
            "name": "Pat Person",
            "roles": ["auditor"],
            "organization_ids": [],
        },
        headers=as_user(tenant, "tenant_admin"),
    )
    assert invited.status_code == 201, invited.text
    query = {"type": "assurehub.account.invited.v1"}
    manager = http.get(
        "/events", params=query, headers=as_user(tenant, "programme_manager")
    )
    admin = http.get("/events", params=query, headers=as_user(tenant, "tenant_admin"))
    assert manager.headers["content-type"] == "application/cloudevents-batch+json"
    [hidden], [shown] = manager.json(), admin.json()
    assert hidden["data"]["email"] is None
    assert hidden["data"]["name"] is None
    assert shown["data"]["name"] == "Pat Person"
    assert {**shown["data"], "email": None, "name": None} == hidden["data"]
    unknown = http.get(
        "/events", params={"type": "assurehub.nothing.v1"}, headers=as_user(tenant)
    )
    assert unknown.status_code == 400
    assert "assurehub.organization.renamed.v1" in unknown.json()["detail"]


def test_an_organization_scoped_caller_sees_only_its_organizations_events(http):
    tenant = _tenant()
    mine, theirs = _register(http, tenant, "Mine"), _register(http, tenant, "Theirs")
    scoped = {
        **as_user(tenant, "client_admin"),
        "X-Dev-Organizations": mine["id"],
    }
    answer = http.get("/events", headers=scoped)
    assert answer.status_code == 200, answer.text
    assert [e["subject"] for e in answer.json()] == [mine["id"]]
    assert theirs["id"] not in answer.text
    everything = http.get("/events", headers=as_user(tenant, "tenant_admin")).json()
    assert {e["subject"] for e in everything} == {mine["id"], theirs["id"]}


def test_a_long_poll_answers_when_an_event_arrives(http, settings, pipeline):
    tenant = _tenant()
    first = _register(http, tenant, "Before")
    timer = threading.Timer(0.3, _register, (http, tenant, "During"))
    with api_with(settings, feed_max_wait_seconds=10) as (client, _):
        timer.start()
        started = time.monotonic()
        answer = client.get(
            "/events",
            params={"after": first["position"], "wait": 10},
            headers=as_user(tenant),
        )
        timer.join()
    assert answer.status_code == 200, answer.text
    [event] = answer.json()
    assert event["type"] == "assurehub.organization.registered.v2"
    assert answer.headers["Next-After"] == str(event["position"])
    assert time.monotonic() - started < 10  # answered on arrival, not at the end


def _stream(base_url: str, headers: dict[str, str]) -> list[tuple[int, dict]]:
    """Every event of one stream connection (the server ends it)."""
    found: list[tuple[int, dict]] = []
    event_id = 0
    with httpx.stream(
        "GET", f"{base_url}/events/stream", headers=headers, timeout=30
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                found.append((event_id, json.loads(line[6:])))
    return found


def test_the_stream_resumes_after_last_event_id(http, base_url):
    tenant = _tenant()
    created = [_register(http, tenant, f"Streamed {i}") for i in range(3)]
    first = _stream(base_url, as_user(tenant))
    assert [e["subject"] for _, e in first] == [c["id"] for c in created]
    assert [i for i, _ in first] == [e["position"] for _, e in first]
    later = _register(http, tenant, "Streamed later")
    resumed = _stream(base_url, {**as_user(tenant), "Last-Event-ID": str(first[1][0])})
    assert [e["subject"] for _, e in resumed] == [created[2]["id"], later["id"]]


def test_the_kafka_example_prints_each_event_once_despite_redelivery(
    http, pipeline, tmp_path
):
    tenant = _tenant()
    created = _register(http, tenant, "Kafka example AB")
    settings = pipeline.settings
    records = consume_until(
        settings,
        settings.kafka_topic,
        lambda rs: any(headers(r)["ce_subject"] == created["id"] for r in rs),
    )
    [record] = [r for r in records if headers(r)["ce_subject"] == created["id"]]
    producer = kafka.producer(settings)
    try:  # a redelivery, as after a relay crash between publish and save
        producer.send(
            settings.kafka_topic,
            key=record.key,
            value=record.value,
            headers=record.headers,
        ).get(timeout=15)
    finally:
        producer.close()
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "kafka_consumer.py"),
            "--bootstrap",
            settings.kafka_bootstrap_servers,
            "--topic",
            settings.kafka_topic,
            "--group",
            f"example-{uuid.uuid4().hex[:8]}",
            "--seen",
            str(tmp_path / "seen.txt"),
            "--idle-seconds",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    events = _lines(done.stdout)
    mine = [e for e in events if e["subject"] == created["id"]]
    assert len(mine) == 1
    assert mine[0]["type"] == "assurehub.organization.registered.v2"
    assert mine[0]["data"]["name"] == "Kafka example AB"
    assert len({e["id"] for e in events}) == len(events)
