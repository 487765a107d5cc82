"""A method a path does not serve is a 405 problem whose ``Allow`` names
exactly the methods the OpenAPI document lists for the path, whichever
router (commands or queries) serves each of them. ``HEAD`` is not served
(the document does not list it), so it is a 405 like any other."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests.in_process import app_in_process, send

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return app_in_process()


def calls(app: FastAPI, requests: list[tuple[str, str]]) -> list[httpx.Response]:
    """Each ``(method, path)`` sent to ``app``."""
    return send(app, [{"method": m, "url": p} for m, p in requests])


def concrete(path: str) -> str:
    """``path`` with an id in each parameter."""
    return re.sub(r"{\w+}", str(uuid.uuid4()), path)


def test_every_unserved_method_of_every_path_is_a_405_naming_the_documented_ones(
    app,
):
    spec = app.openapi()
    requests, expected = [], []
    for path, operations in spec["paths"].items():
        documented = sorted(m.upper() for m in operations)
        for method in METHODS:
            if method not in documented:
                requests.append((method, concrete(path)))
                expected.append(", ".join(documented))
    assert len(requests) > 200
    for (method, path), allow, r in zip(
        requests, expected, calls(app, requests), strict=True
    ):
        assert r.status_code == 405, (method, path, r.status_code)
        assert r.headers["allow"] == allow, (method, path)
        if method != "HEAD":
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["status"] == 405


def test_a_path_served_by_commands_and_queries_allows_both(app):
    [options, put] = calls(app, [("OPTIONS", "/audits"), ("PUT", "/audits")])
    assert options.headers["allow"] == put.headers["allow"] == "GET, POST"
    [head] = calls(app, [("HEAD", f"/audits/{uuid.uuid4()}")])
    assert head.headers["allow"] == "GET, PATCH"


def test_the_documents_own_paths_allow_what_they_serve(app):
    [spec, assets] = calls(
        app, [("PUT", "/openapi.json"), ("POST", "/docs-assets/swagger-ui.css")]
    )
    assert spec.headers["allow"] == assets.headers["allow"] == "GET, HEAD"
