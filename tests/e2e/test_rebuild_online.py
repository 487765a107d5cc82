"""A rebuild of a live read model while the query API is being read: every
answer during the rebuild succeeds and is complete, and the API keeps
following new writes after the swap."""

from __future__ import annotations

import threading
import time
import uuid

import httpx

from projections.organizations import OrganizationProjection
from tests.e2e.conftest import as_user


def test_the_api_serves_throughout_a_rebuild(http, pipeline, base_url):
    tenant = f"e2e-rebuild-{uuid.uuid4().hex[:8]}"
    admin = as_user(tenant, "tenant_admin")
    names = [f"Rebuilt {i:02d} Ltd" for i in range(12)]
    last = 0
    for name in names:
        r = http.post(
            "/organizations", json={"name": name, "country": "NL"}, headers=admin
        )
        assert r.status_code == 201, r.text
        last = r.json()["position"]
    first_id = r.json()["id"]
    ready = http.get(
        "/organizations", params={"min_position": last, "limit": 50}, headers=admin
    )
    assert ready.status_code == 200, ready.text

    answers: list[tuple[int, int]] = []
    stop = threading.Event()

    def read_continuously() -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            while not stop.is_set():
                listed = client.get(
                    "/organizations", params={"limit": 50}, headers=admin
                )
                one = client.get(f"/organizations/{first_id}", headers=admin)
                count = len(listed.json()["items"]) if listed.status_code == 200 else -1
                answers.append((listed.status_code, count))
                answers.append((one.status_code, 1))

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        time.sleep(0.3)
        result = pipeline.rebuilder().rebuild(OrganizationProjection())
        time.sleep(0.3)
    finally:
        stop.set()
        reader.join(timeout=30)

    assert result.events > 0
    assert len(answers) > 10, "the reader ran during the rebuild"
    assert {status for status, _ in answers} == {200}, answers
    assert {count for _, count in answers} == {len(names), 1}, "never a partial list"

    after = http.post(
        "/organizations",
        json={"name": "After the swap", "country": "NL"},
        headers=admin,
    )
    position = after.json()["position"]
    seen = http.get(
        "/organizations", params={"min_position": position, "limit": 50}, headers=admin
    )
    assert seen.status_code == 200, seen.text
    assert len(seen.json()["items"]) == len(names) + 1
