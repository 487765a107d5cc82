"""Webhooks as an integrator uses them over HTTP: subscribe, receive signed
CloudEvents in the example receiver (``docs/examples/webhook_receiver.py``,
verifying with the standardwebhooks library), list the deliveries and their
attempts, redeliver, replay, pause and resume, rotate the secret (the old one
keeps verifying during the grace period), delete; tenants never see each
other's subscriptions, and a bad target is a 422 naming the field."""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import as_user
from tests.webhook_harness import free_port, receiver, wait_for

REGISTERED = "assurehub.organization.registered.v2"
WAIT = 30.0


@pytest.fixture
def dispatcher(pipeline) -> Iterator[None]:
    """The webhook dispatcher's threads, on a consumer group of their own."""
    stop = threading.Event()
    group = f"e2e.webhooks.{uuid.uuid4().hex[:8]}"
    sender = pipeline.webhook_sender()
    fanout = pipeline.webhook_fanout(sender.wake, group=group)

    def worker(name, target, *args):
        return threading.Thread(target=target, args=(stop, *args), name=name)

    threads = [worker("fanout", fanout.run), worker("sender", sender.run, 0.2)]
    for t in threads:
        t.start()
    yield
    stop.set()
    for t in threads:
        t.join(timeout=30)


def lines(child) -> queue.Queue[dict]:
    """The receiver's printed events, as they come."""
    found: queue.Queue[dict] = queue.Queue()

    def read() -> None:
        for line in child.stdout:
            if line.startswith("{"):
                found.put(json.loads(line))

    threading.Thread(target=read, daemon=True).start()
    return found


def next_of(found: queue.Queue[dict], subject: str) -> dict:
    while True:
        event = found.get(timeout=WAIT)
        if event["subject"] == subject:
            return event


def register(http, tenant: str, name: str) -> dict:
    r = http.post(
        "/organizations", json={"name": name, "country": "GB"}, headers=as_user(tenant)
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_an_integrator_receives_signed_events_and_manages_the_subscription(
    http, dispatcher
):
    tenant = f"hooks-{uuid.uuid4().hex[:8]}"
    admin = as_user(tenant)
    port = free_port()
    created = http.post(
        "/webhook-subscriptions",
        json={"url": f"http://127.0.0.1:{port}/in", "event_types": [REGISTERED]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    secret, sid = body["secret"], body["subscription"]["id"]
    assert secret.startswith("whsec_")
    assert created.headers["Location"] == f"/webhook-subscriptions/{sid}"
    assert created.headers["Cache-Control"] == "no-store"

    with receiver(port, [secret]) as child:
        found = lines(child)
        org = register(http, tenant, "Hooked Pumps")
        event = next_of(found, org["id"])
        assert event["type"] == REGISTERED
        assert event["position"] == org["position"]
        assert event["webhook_id"] == event["id"]

        def listed() -> list[dict]:
            r = http.get(f"/webhook-subscriptions/{sid}/deliveries", headers=admin)
            assert r.status_code == 200, r.text
            return r.json()["items"]

        # the receiver answered; the dispatcher records that just after
        wait_for(lambda: listed()[0]["state"] == "delivered", WAIT, "delivered")
        [delivery] = listed()
        [attempt] = delivery["attempts"]
        assert attempt["status_code"] == 204
        assert attempt["error"] is None
        assert attempt["latency_ms"] >= 0

        again = http.post(
            f"/webhook-subscriptions/{sid}/deliveries/{delivery['id']}/redeliver",
            headers=admin,
        )
        assert again.status_code == 202, again.text
        assert next_of(found, org["id"])["id"] == event["id"]
        replayed = http.post(
            f"/webhook-subscriptions/{sid}/replay",
            params={"from_position": org["position"]},
            headers=admin,
        )
        assert replayed.status_code == 202, replayed.text
        assert replayed.json() == {"deliveries": 1}
        assert next_of(found, org["id"])["id"] == event["id"]

        paused = http.post(f"/webhook-subscriptions/{sid}/pause", headers=admin)
        assert paused.json()["state"] == "paused"
        later = register(http, tenant, "Hooked Valves")
        with pytest.raises(queue.Empty):
            found.get(timeout=2)
        resumed = http.post(f"/webhook-subscriptions/{sid}/resume", headers=admin)
        assert resumed.json()["state"] == "active"
        assert next_of(found, later["id"])["position"] == later["position"]

        # the receiver still holds only the old secret: during the grace
        # period every delivery is signed by both
        rotated = http.post(
            f"/webhook-subscriptions/{sid}/rotate-secret", headers=admin
        )
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["secret"] not in (secret, None)
        assert rotated.json()["subscription"]["previous_secret_until"] is not None
        third = register(http, tenant, "Hooked Seals")
        assert next_of(found, third["id"])["type"] == REGISTERED

    shown = http.get(f"/webhook-subscriptions/{sid}", headers=admin)
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    other = as_user(f"other-{uuid.uuid4().hex[:8]}")
    hidden = http.get(f"/webhook-subscriptions/{sid}", headers=other)
    assert hidden.status_code == 404
    assert http.get("/webhook-subscriptions", headers=other).json()["items"] == []

    deleted = http.delete(f"/webhook-subscriptions/{sid}", headers=admin)
    assert deleted.status_code == 204
    assert http.get(f"/webhook-subscriptions/{sid}", headers=admin).status_code == 404


def test_subscriptions_are_listed_a_page_at_a_time(http):
    tenant = f"hooks-{uuid.uuid4().hex[:8]}"
    admin = as_user(tenant)
    made = [
        http.post(
            "/webhook-subscriptions",
            json={"url": f"http://127.0.0.1:{9000 + i}/in"},
            headers=admin,
        ).json()["subscription"]["id"]
        for i in range(3)
    ]
    first = http.get("/webhook-subscriptions", params={"limit": 2}, headers=admin)
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["next_cursor"] is not None
    rest = http.get(
        "/webhook-subscriptions",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=admin,
    ).json()
    assert rest["next_cursor"] is None
    listed = [s["id"] for s in page["items"] + rest["items"]]
    assert sorted(listed) == sorted(made)
    assert len(set(listed)) == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example.com/in"}, "url"),
        ({"url": "https://hooks.invalid/in"}, "url"),
        ({"url": "http://127.0.0.1/in", "event_types": ["nope.v1"]}, "event_types"),
    ],
)
def test_a_bad_subscription_is_a_422_naming_the_field(http, body, field):
    r = http.post(
        "/webhook-subscriptions", json=body, headers=as_user(f"h-{uuid.uuid4().hex}")
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]
