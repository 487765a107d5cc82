"""A query route that takes no filters refuses any query parameter it does
not declare with a 400 problem naming the ones it takes, once the caller is
authenticated (401 first), as lists do; its own parameters still pass."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.in_process import Nobody, app_in_process, send

EXCEPTIONS = {
    "/.well-known/assurehub-log-keys": [],
    "/audit-log/export": ["from_position", "to_position"],
    "/events": ["after", "aggregate_type", "limit", "type", "wait"],
    "/events/stream": ["after", "aggregate_type", "type"],
    "/certificates/{certificate_id}/verification": ["on_date"],
}
"""Routes that take other parameters than ``min_position`` (they read no
read model)."""
AT = {"at": "2026-01-01T00:00:00Z"}
AS_OF_DETAILS = frozenset(
    {
        "/audits/{audit_id}",
        "/certificates/{certificate_id}",
        "/organizations/{organization_id}",
        "/standard-templates/{template_id}",
        "/document-templates/{template_id}",
    }
)
"""The details that also answer as they were (``as_of``, ``as_of_version``)."""


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return app_in_process()


def get(app: FastAPI, path: str, params: dict[str, str]) -> httpx.Response:
    [answer] = send(app, [{"method": "GET", "url": path, "params": params}])
    return answer


def unfiltered_queries(spec: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Every GET but the lists, health and the routes whose query is their
    input (required parameters), with the query parameters it takes."""
    found = []
    for path, operations in spec["paths"].items():
        op = operations.get("get")
        if op is None or path.startswith("/health"):
            continue
        query = [p for p in op.get("parameters", []) if p["in"] == "query"]
        names = sorted(p["name"] for p in query)
        if "cursor" not in names and not any(p.get("required") for p in query):
            found.append((path, names))
    return found


def test_every_detail_refuses_an_undeclared_parameter_naming_the_allowed(app):
    queries = unfiltered_queries(app.openapi())
    assert len(queries) >= 14, queries
    for path, allowed in queries:
        url = re.sub(r"{\w+}", str(uuid.uuid4()), path)
        r = get(app, url, AT)
        assert r.status_code == 400, (path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["code"] == "unknown-parameter", path
        assert problem["errors"] == [
            {"field": "at", "in": "query", "message": problem["detail"]}
        ]
        takes = EXCEPTIONS.get(path, ["min_position"])
        if path in AS_OF_DETAILS:
            takes = ["as_of", "as_of_version", "min_position"]
        assert problem.get("allowed", []) == allowed == takes, path
        assert "'at'" in problem["detail"], path


def test_a_detail_names_what_it_takes(app):
    r = get(app, f"/audits/{uuid.uuid4()}", AT)
    assert r.json()["detail"] == (
        "unknown query parameter 'at'; allowed: as_of, as_of_version, min_position"
    )
    r = get(app, f"/audits/{uuid.uuid4()}/findings/{uuid.uuid4()}", AT)
    assert r.json()["detail"] == "unknown query parameter 'at'; allowed: min_position"


def test_a_declared_parameter_passes_the_check(app):
    r = get(app, "/dashboard", {"min_position": "not-a-number"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "min_position"


def test_an_unauthenticated_caller_is_told_401_before_400():
    r = get(app_in_process(Nobody()), f"/audits/{uuid.uuid4()}", AT)
    assert r.status_code == 401, r.text


def test_the_link_form_of_verification_refuses_a_parameter_it_does_not_take(app):
    printed = {"number": "ACME-2026-000123", "code": "7K3M9QWX2HFD8TZA4BCE"}
    r = get(app, "/public/certificate-verifications", {**printed, **AT})
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["code"] == "unknown-parameter"
    assert problem["allowed"] == ["code", "number"]
