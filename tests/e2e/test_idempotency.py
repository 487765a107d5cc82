"""Idempotency-Key over HTTP, recorded atomically with the events in Postgres."""

from __future__ import annotations

import threading
import uuid

from tests.e2e.conftest import as_user


def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_once(
    http, pipeline
):
    admin = {**as_user("e2e-idem"), "Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = {"name": "Once Only Ltd", "country": "GB"}
    head = pipeline.event_store.head()
    first = http.post("/organizations", json=body, headers=admin)
    again = http.post("/organizations", json=body, headers=admin)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert pipeline.event_store.head() == head + 1


def test_the_same_key_with_another_body_is_422_naming_the_header(http, pipeline):
    admin = {**as_user("e2e-idem"), "Idempotency-Key": f"k-{uuid.uuid4()}"}
    http.post("/organizations", json={"name": "A", "country": "GB"}, headers=admin)
    head = pipeline.event_store.head()
    other = http.post(
        "/organizations", json={"name": "B", "country": "GB"}, headers=admin
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency-key-reused"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert pipeline.event_store.head() == head


def test_concurrent_retries_write_once(base_url, pipeline):
    import httpx

    admin = {**as_user("e2e-idem"), "Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = {"name": "Racing Ltd", "country": "GB"}
    head = pipeline.event_store.head()
    answers: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            answers.append(client.post("/organizations", json=body, headers=admin))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert pipeline.event_store.head() == head + 1
