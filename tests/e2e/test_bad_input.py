"""Bad input gets a clear problem+json answer and writes nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import api_with, as_user

PROBLEM = "application/problem+json"
ADMIN = as_user("e2e-bad-input")


def fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def test_malformed_json_is_422_naming_the_body(http):
    r = http.post(
        "/organizations",
        content=b'{"name": "Acme",',
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "validation-error"
    assert fields(r) == {"body"}


def test_missing_and_invalid_fields_are_each_named(http):
    r = http.post("/organizations", json={"country": "GBR", "extra": 1}, headers=ADMIN)
    assert r.status_code == 422
    assert fields(r) >= {"name", "country", "extra"}


def test_an_unknown_country_code_is_named(http):
    r = http.post(
        "/organizations", json={"name": "Acme", "country": "UK"}, headers=ADMIN
    )
    assert r.status_code == 422
    assert fields(r) == {"country"}


def test_unknown_id_is_404(http):
    r = http.post(
        f"/organizations/{uuid.uuid4()}/rename", json={"name": "X"}, headers=ADMIN
    )
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM


def test_oversized_body_is_413_and_stores_nothing(http, pipeline):
    head = pipeline.event_store.head()
    big = {"name": "x" * 2_000_000, "country": "GB"}
    r = http.post("/organizations", json=big, headers=ADMIN)
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM
    streamed = http.post(
        "/organizations",
        content=iter([b'{"name": "', b"y" * 2_000_000, b'", "country": "GB"}']),
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    assert pipeline.event_store.head() == head


@pytest.mark.parametrize(
    "if_match",
    ['"abc"', "W/", '"0"', '"3', '"12345678901"', b'"\xb2"', b"\xb3"],
)
def test_a_malformed_if_match_is_400(http, if_match):
    # b"\xb2" arrives as "²": a digit to str.isdigit(), not to int().
    created = http.post(
        "/organizations", json={"name": "M", "country": "GB"}, headers=ADMIN
    )
    r = http.post(
        f"/organizations/{created.json()['id']}/rename",
        json={"name": "N"},
        headers={**ADMIN, "If-Match": if_match},
    )
    assert r.status_code == 400
    assert r.json()["code"] == "invalid-if-match"


def test_no_caller_is_401_and_a_role_without_permission_is_403(http):
    r = http.post("/organizations", json={"name": "Acme", "country": "GB"})
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    auditor = as_user("e2e-bad-input", "auditor")
    r = http.post(
        "/organizations", json={"name": "Acme", "country": "GB"}, headers=auditor
    )
    assert r.status_code == 403
    assert r.json()["permission"] == "organization:register"


def test_a_position_beyond_the_newest_event_is_422_naming_it(http):
    r = http.get("/organizations", params={"min_position": 10**12}, headers=ADMIN)
    assert r.status_code == 422
    assert fields(r) == {"min_position"}


def test_a_position_the_read_model_has_not_reached_is_503_with_retry_after(migrated):
    # A server whose projections follow a topic nothing is relayed to.
    with api_with(
        migrated, kafka_topic=f"{migrated.kafka_topic}.idle", read_wait_seconds=0.5
    ) as (client, container):
        head = container.event_store.head()
        r = client.get("/organizations", params={"min_position": head}, headers=ADMIN)
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert r.json()["code"] == "read-model-behind"


def test_a_forged_cursor_is_400_naming_the_cursor(http):
    r = http.get("/organizations", params={"cursor": "bogus"}, headers=ADMIN)
    assert r.status_code == 400
    assert fields(r) == {"cursor"}


def test_docs_work_offline(http):
    page = http.get("/docs")
    assert page.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert http.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert http.get("/openapi.json").json()["info"]["title"] == "AssureHub"
