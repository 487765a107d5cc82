"""Text that a read model, a PDF or a message cannot carry is a 422 naming
the field, whether it comes in a body, a query or a path, and nothing is
written; tab and line breaks are text only in multi-line fields."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import as_user

PROBLEM = "application/problem+json"
# As JSON escapes: a lone surrogate cannot be written in UTF-8, only escaped.
IN_JSON = {"nul": r"\u0000", "lone surrogate": r"\ud800", "C1 control": r"\u0085"}
# Percent-encoded for a URL (a surrogate cannot be: servers decode its bytes
# to U+FFFD, which is text).
IN_URL = {"nul": "%00", "C0 control": "%1B", "C1 control": "%C2%85"}


def tenant_admin() -> dict[str, str]:
    return as_user(f"e2e-text-{uuid.uuid4().hex[:8]}")


def errors(r) -> list[tuple[str, str, str]]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    return [(e["field"], e["in"], e["type"]) for e in r.json()["errors"]]


def draft(http, admin) -> str:
    created = http.post(
        "/standard-templates",
        json={"standard_name": "ISO 9001", "edition": "2015", "title": "QMS"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    return str(created.headers["location"])


@pytest.mark.parametrize("bad", IN_JSON.values(), ids=IN_JSON.keys())
def test_a_body_field_no_read_model_can_hold_is_422_and_nothing_is_written(
    http, pipeline, bad
):
    admin = tenant_admin()
    head = pipeline.event_store.head()
    body = '{"standard_name": "ISO 9001", "edition": "2015", "title": "Q' + bad + 'M"}'
    r = http.post(
        "/standard-templates",
        content=body.encode(),
        headers={**admin, "Content-Type": "application/json"},
    )
    assert errors(r) == [("title", "body", "unsafe_character")]
    assert f"U+{bad[2:].upper()}" in r.json()["errors"][0]["message"]
    assert pipeline.event_store.head() == head
    listed = http.get(
        "/standard-templates", params={"min_position": head}, headers=admin
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []


def test_tab_and_line_breaks_are_kept_in_multiline_fields_refused_in_others(
    http,
):
    admin = tenant_admin()
    base = draft(http, admin)
    text = "The organization shall:\r\n\ta)  plan\nb) do"
    added = http.post(
        f"{base}/clauses",
        json={"clause_id": "4", "title": "Context", "text": text},
        headers=admin,
    )
    assert added.status_code == 201, added.text
    for single_line in ({"title": "Leader\tship"}, {"clause_id": "5\n"}):
        clause = {"clause_id": "5", "title": "Leadership", "text": "Lead."}
        refused = http.post(
            f"{base}/clauses", json={**clause, **single_line}, headers=admin
        )
        [field] = single_line
        assert errors(refused) == [(field, "body", "unsafe_character")]
    detail = http.get(
        base, params={"min_position": added.json()["position"]}, headers=admin
    )
    assert [c["text"] for c in detail.json()["draft_clauses"]] == [
        "The organization shall:\na) plan\nb) do"
    ]


def test_a_line_break_in_a_name_is_refused_but_taken_in_an_address(http):
    admin = tenant_admin()
    refused = http.post(
        "/organizations", json={"name": "Acme\nLtd", "country": "GB"}, headers=admin
    )
    assert errors(refused) == [("name", "body", "unsafe_character")]
    created = http.post(
        "/organizations", json={"name": "Acme Ltd", "country": "GB"}, headers=admin
    )
    site = http.post(
        f"{created.headers['location']}/sites",
        json={"name": "Works", "address": "1 Mill Lane\nLeeds"},
        headers=admin,
    )
    assert site.status_code == 201, site.text


@pytest.mark.parametrize("bad", IN_URL.values(), ids=IN_URL.keys())
def test_a_query_parameter_that_is_not_one_line_of_text_is_422_naming_it(http, bad):
    admin = tenant_admin()
    for path in ("/standard-templates", "/organizations"):
        r = http.get(f"{path}?q=Quality{bad}", headers=admin)
        assert errors(r) == [("q", "query", "unsafe_character")]


@pytest.mark.parametrize("bad", IN_URL.values(), ids=IN_URL.keys())
def test_a_path_parameter_that_is_not_one_line_of_text_is_422_naming_it(
    http, pipeline, bad
):
    admin = tenant_admin()
    base = draft(http, admin)
    head = pipeline.event_store.head()
    changed = http.patch(
        f"{base}/clauses/4{bad}", json={"title": "T", "text": "X"}, headers=admin
    )
    assert errors(changed) == [("clause_id", "path", "unsafe_character")]
    removed = http.post(f"{base}/clauses/4{bad}/remove", headers=admin)
    assert errors(removed) == [("clause_id", "path", "unsafe_character")]
    assert pipeline.event_store.head() == head


@pytest.mark.parametrize("path", ["/auth/login", "/auth/password-resets"])
def test_an_email_with_a_nul_is_422_naming_it_not_a_server_error(http, path):
    body = {"tenant": "acme-cert", "email": "ada\x00@acme.test"}
    if path == "/auth/login":
        body["password"] = "correct horse battery staple"
    r = http.post(path, json=body)
    assert errors(r) == [("email", "body", "unsafe_character")]
