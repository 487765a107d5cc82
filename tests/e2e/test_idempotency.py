"""Idempotency-Key over HTTP, recorded atomically with the events in Postgres."""

from __future__ import annotations

import threading
import uuid

import pytest

from tests.e2e.conftest import as_user
from tests.e2e.world import LEAD, build_world, new_tenant


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


# --- commands that change nothing ----------------------------------------------

NO_OPS = [
    ("/tenant/settings/time-zone", {"time_zone": "Europe/Berlin"}),
    ("/tenant/settings/mfa-policy", {"required_for_all": True}),
    (
        "/tenant/settings/mfa-policy",
        {"required_for_all": False, "required_roles": ["tenant_admin"]},
    ),
]
"""Every command that can succeed without an event: the domain's only
methods that return without recording anything are
``TenantSettings.set_time_zone`` and ``set_mfa_policy`` (every other command
records an event or refuses, as those in :data:`UNCHANGED` do)."""

CHANGE = {
    "/tenant/settings/time-zone": {"time_zone": "Asia/Tokyo"},
    "/tenant/settings/mfa-policy": {"required_for_all": False},
}


def keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": f"k-{uuid.uuid4()}"}


def answer_of(r) -> tuple[int, str | None, object]:
    return r.status_code, r.headers.get("etag"), r.json()


@pytest.mark.parametrize(("path", "body"), NO_OPS)
def test_a_command_that_changes_nothing_answers_alike_with_a_key_and_replays(
    http, pipeline, path, body
):
    admin = as_user(f"e2e-noop-{uuid.uuid4().hex[:8]}")
    first = http.post(path, json=body, headers=admin)
    assert first.status_code == 200, first.text
    head = pipeline.event_store.head()

    plain = http.post(path, json=body, headers=admin)
    with_key = keyed(admin)
    keyed_answer = http.post(path, json=body, headers=with_key)
    assert plain.status_code == 200, plain.text
    assert answer_of(keyed_answer) == answer_of(plain)
    assert plain.json()["version"] == first.json()["version"]
    assert pipeline.event_store.head() == head, "a no-op writes no event"

    # The answer was stored: once the settings have moved on, a retry still
    # gets it, and the key is refused with another request.
    moved = http.post(path, json=CHANGE[path], headers=admin)
    assert moved.status_code == 200, moved.text
    retry = http.post(path, json=body, headers=with_key)
    assert answer_of(retry) == answer_of(keyed_answer)
    reused = http.post(path, json=CHANGE[path], headers=with_key)
    assert reused.status_code == 422, reused.text
    assert reused.json()["code"] == "idempotency-key-reused"


@pytest.fixture(scope="module")
def world(base_url, pipeline):
    import httpx

    with httpx.Client(base_url=base_url, timeout=30) as client:
        return build_world(client, pipeline, new_tenant("noop"))


def unchanged(world) -> list[tuple[str, dict[str, object]]]:
    """Commands that would change nothing and are refused for it."""
    return [
        (f"/users/{world.account}/roles", {"roles": ["auditor"]}),
        (
            f"/organizations/{world.organization}/rename",
            {"name": world.organization_name},
        ),
        (
            f"/audits/{world.audit}/assign-team",
            {"lead_auditor": LEAD, "auditors": ["arun"]},
        ),
    ]


def test_a_command_refused_for_changing_nothing_is_refused_alike_with_a_key(
    http, pipeline, world
):
    admin = as_user(world.tenant, "tenant_admin", "programme_manager")
    head = pipeline.event_store.head()
    for path, body in unchanged(world):
        plain = http.post(path, json=body, headers=admin)
        assert plain.status_code == 409, (path, plain.text)
        assert plain.json()["code"].endswith("unchanged"), (path, plain.text)
        with_key = keyed(admin)
        for _ in range(2):
            again = http.post(path, json=body, headers=with_key)
            assert answer_of(again)[::2] == answer_of(plain)[::2], (path, again.text)
    assert pipeline.event_store.head() == head
