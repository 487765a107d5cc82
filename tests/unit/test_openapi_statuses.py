"""The OpenAPI document lists the statuses every operation can answer beyond
its own: each is documented where the app really answers it (sent here to
the app in process, for what it answers before any service is called)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI

from tests.in_process import MAX_BODY_BYTES, app_in_process, send

COMMANDS = ("post", "patch", "put", "delete")


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return app_in_process()


@pytest.fixture(scope="module")
def spec(app) -> dict[str, Any]:
    return app.openapi()


def operations(spec: dict[str, Any]):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def url(path: str) -> str:
    return re.sub(r"{\w+}", str(uuid.uuid4()), path)


def test_every_command_answers_413_to_an_oversized_body_as_documented(app, spec):
    commands = [(p, m, op) for p, m, op in operations(spec) if m in COMMANDS]
    body = b"x" * (2 * MAX_BODY_BYTES)  # past the upload limit too
    answers = send(
        app, [{"method": m, "url": url(p), "content": body} for p, m, _ in commands]
    )
    for (path, method, op), r in zip(commands, answers, strict=True):
        assert r.status_code == 413, (method, path, r.status_code)
        assert "413" in op["responses"], (method, path)


def test_every_body_that_cannot_be_read_is_a_documented_400(app, spec):
    bodies = [(p, m, op) for p, m, op in operations(spec) if "requestBody" in op]
    assert len(bodies) > 40
    requests = []
    for path, method, op in bodies:
        [media] = op["requestBody"]["content"]
        requests.append(
            {
                "method": method,
                "url": url(path),
                "content": b"\xff\xfe{",
                "headers": {"content-type": media},
            }
        )
    for (path, method, op), r in zip(bodies, send(app, requests), strict=True):
        assert r.status_code == 400, (method, path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert "400" in op["responses"], (method, path)


def test_every_query_documents_400_for_a_parameter_it_does_not_take(spec):
    for path, method, op in operations(spec):
        if method == "get" and not path.startswith("/health"):
            assert "400" in op["responses"], path


def test_commands_that_look_up_a_record_their_body_names_document_404(spec):
    plan = spec["paths"]["/audits"]["post"]["responses"]["404"]["description"]
    assert "organization or standard template" in plan
    issue = spec["paths"]["/certificates"]["post"]["responses"]["404"]
    assert "audit" in issue["description"]


def test_every_command_documents_a_lost_race_and_several_reasons_join(spec):
    for path, method, op in operations(spec):
        if method in COMMANDS and not path.startswith("/public/"):
            assert "`concurrent-write`" in op["responses"]["409"]["description"]
    rename = spec["paths"]["/organizations/{organization_id}/rename"]["post"]
    reasons = rename["responses"]["400"]["description"].split("; ")
    assert reasons == [
        "The body cannot be read (not UTF-8, or a malformed form)",
        "If-Match is not an ETag this API issued",
    ]
