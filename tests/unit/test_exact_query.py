"""A query route that takes no filters refuses any query parameter it does
not declare with a 400 problem naming the ones it takes, once the caller is
authenticated (401 first), as lists do; its own parameters still pass."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any
from unittest.mock import MagicMock

import httpx
import pytest
from fastapi import FastAPI

from commands.http.edge import NotAuthenticatedError
from domain.principal import Principal, Role
from read_api.app import create_app

AS_OF = {"as_of": "2026-01-01T00:00:00Z"}


class EveryRole:
    """Authenticates every request as a caller holding every tenant role."""

    async def authenticate(self, headers: Any) -> Principal:
        roles = frozenset(r for r in Role if r is not Role.PLATFORM_ADMIN)
        return Principal("acme", str(uuid.UUID(int=7)), roles)


class Nobody:
    """Refuses every request's credentials."""

    async def authenticate(self, headers: Any) -> Principal:
        raise NotAuthenticatedError("no credentials")


@pytest.fixture(scope="module")
def app() -> FastAPI:
    container = MagicMock()
    container.settings.max_body_bytes = 1_000_000
    container.settings.upload_max_bytes = 1_000_000
    container.services.calendar.cached_zone.return_value = "UTC"
    container.authenticator = EveryRole()
    return create_app(container)


def get(app: FastAPI, path: str, params: dict[str, str]) -> httpx.Response:
    """One GET to ``app`` in process (no socket)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get(path, params=params)

    return asyncio.run(call())


def unfiltered_queries(spec: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Every GET but the lists and health, with the query parameters it takes."""
    found = []
    for path, operations in spec["paths"].items():
        op = operations.get("get")
        if op is None or path.startswith("/health"):
            continue
        query = [p for p in op.get("parameters", []) if p["in"] == "query"]
        names = sorted(p["name"] for p in query)
        if "cursor" not in names:
            found.append((path, names))
    return found


def test_every_detail_refuses_an_undeclared_parameter_naming_the_allowed(app):
    queries = unfiltered_queries(app.openapi())
    assert len(queries) >= 14, queries
    for path, allowed in queries:
        url = re.sub(r"{\w+}", str(uuid.uuid4()), path)
        r = get(app, url, AS_OF)
        assert r.status_code == 400, (path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["code"] == "unknown-parameter", path
        assert problem["errors"] == [
            {"field": "as_of", "in": "query", "message": problem["detail"]}
        ]
        assert problem.get("allowed", []) == allowed, path
        assert "as_of" in problem["detail"], path


def test_a_detail_names_min_position_as_what_it_takes(app):
    r = get(app, f"/audits/{uuid.uuid4()}", AS_OF)
    assert r.json()["detail"] == (
        "unknown query parameter 'as_of'; allowed: min_position"
    )
    tokens = get(app, "/api-tokens", {"page": "2"})
    assert tokens.status_code == 400
    assert tokens.json()["detail"] == (
        "unknown query parameter 'page'; allowed: min_position"
    )


def test_a_declared_parameter_passes_the_check(app):
    r = get(app, "/dashboard", {"min_position": "not-a-number"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "min_position"


def test_an_unauthenticated_caller_is_told_401_before_400():
    container = MagicMock()
    container.settings.max_body_bytes = 1_000_000
    container.settings.upload_max_bytes = 1_000_000
    container.authenticator = Nobody()
    unauthenticated = create_app(container)
    r = get(unauthenticated, f"/audits/{uuid.uuid4()}", AS_OF)
    assert r.status_code == 401, r.text
