"""Listings against a real Postgres: filters, sorts, keyset pages under
inserts, tenant and scope isolation, and streamed CSV exports.

The table lives in a schema of its own (``rm_listing_test``), created and
dropped by this module; every test uses its own tenant.
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI, Request, Response
from psycopg import sql
from starlette.requests import ClientDisconnect

from domain.principal import Principal, Role
from infra.postgres.listing import PostgresListingView, statement
from infra.postgres.pool import Database
from projections.listing import (
    ExportTooLargeError,
    Filter,
    InvalidCursorError,
    Listing,
    ListQuery,
    SortKey,
)
from projections.rows import Column, Table
from read_api.listing import csv_cell, csv_response, list_response, parse_request
from read_api.problems import install_problem_handlers

SCHEMA = "rm_listing_test"
TABLE = Table(
    name="items",
    columns=(
        Column("tenant_id", "text", nullable=False),
        Column("id", "uuid", nullable=False),
        Column("organization_id", "uuid", nullable=False),
        Column("audit_id", "uuid"),
        Column("team", "text[]", nullable=False),
        Column("name", 'text COLLATE "C"', nullable=False),
        Column("name_key", 'text COLLATE "C"', nullable=False),
        Column("number", 'text COLLATE "C"', nullable=False),
        Column("status", 'text COLLATE "C"', nullable=False),
        Column("grade", 'text COLLATE "C"'),
        Column("due_date", "date"),
        Column("issued_at", "timestamptz", nullable=False),
        Column("score", "integer", nullable=False),
        Column("archived", "boolean", nullable=False),
    ),
    key=("tenant_id", "id"),
)
SORTS = ("name", "number", "status", "grade", "due_date", "issued_at", "score")
ITEMS = Listing(
    name="items",
    projection="listing_test",
    table=TABLE,
    filters=(
        Filter.exact("status", allowed=("open", "closed", "draft")),
        Filter.exact("grade", allowed=("major", "minor", "observation")),
        Filter.exact("organization_id"),
        Filter.exact("score"),
        Filter.date_range("due_date"),
        Filter.date_range("issued_at"),
        Filter.text("q", "name", "number"),
        Filter.flag("archived"),
        Filter.member("auditor", "team"),
        Filter.prefix("name_prefix", "name_key"),
    ),
    sorts=SORTS,
    default_sort="-issued_at",
    organization_column="organization_id",
    audit_column="audit_id",
    team_column="team",
)
NAMES = ("Acme", "beta", "Gamma Ltd", "delta", "Epsilon")
STATUSES = ("open", "closed", "draft")
GRADES = (None, "major", "minor", "observation")
BASE = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def database(settings) -> Iterator[Database]:
    db = Database(str(settings.database_url), max_size=4)
    columns = ", ".join(
        f"{c.name} {c.type}{'' if c.nullable else ' NOT NULL'}" for c in TABLE.columns
    )
    with db.connection() as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(
            f"CREATE TABLE {SCHEMA}.items ({columns}, PRIMARY KEY (tenant_id, id))"
        )
        conn.execute(
            f"CREATE INDEX items_name_key ON {SCHEMA}.items (tenant_id, name_key, id)"
        )
    yield db
    with db.connection() as conn:
        conn.execute("SET lock_timeout = '10s'")  # an export left open fails here
        conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    db.close()


@pytest.fixture
def view(database) -> PostgresListingView:
    return PostgresListingView(database, batch_size=7)


def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


def caller(tenant_id: str, **scopes: Any) -> Principal:
    return Principal(tenant_id, "reader", **scopes)


def make_rows(
    tenant_id: str, n: int, orgs=None, audits=None, start: int = 0
) -> list[dict[str, Any]]:
    orgs = orgs or [uuid.uuid4()]
    audits = audits or [uuid.uuid4()]
    return [
        {
            "tenant_id": tenant_id,
            "id": uuid.uuid4(),
            "organization_id": orgs[i % len(orgs)],
            "audit_id": audits[i % len(audits)] if i % 4 else None,
            "team": ["alice", "bob"][: i % 3],
            "name": f"{NAMES[i % 5]} {i:05}",
            "name_key": f"{NAMES[i % 5]} {i:05}".casefold(),
            "number": f"A-{2024 + i % 2}-{i:05}",
            "status": STATUSES[i % 3],
            "grade": GRADES[i % 4],
            "due_date": None if i % 5 == 0 else date(2024, 1, 1 + i % 9),
            "issued_at": BASE + timedelta(hours=i // 3),
            "score": i % 4,
            "archived": i % 6 == 0,
        }
        for i in range(start, start + n)
    ]


def insert(database: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = TABLE.column_names
    with (
        database.connection() as conn,
        conn.cursor().copy(
            f"COPY {SCHEMA}.items ({', '.join(names)}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row([row[n] for n in names])
    return rows


def query(*params: tuple[str, str], limit: int = 50) -> ListQuery:
    return replace(parse_request(ITEMS, list(params)).query, limit=limit)


def pages(view, principal, q: ListQuery, between=None) -> list[list[dict]]:
    """Every page of ``q``, calling ``between(page_number)`` after each."""
    found = []
    while True:
        page = view.page(principal, ITEMS, q)
        found.append(page.items)
        if between is not None:
            between(len(found))
        if page.next_cursor is None:
            return found
        q = replace(q, cursor=page.next_cursor)


def ids(rows) -> list[uuid.UUID]:
    return [r["id"] for r in rows]


def in_order(rows, keys: tuple[SortKey, ...]) -> list[dict]:
    """``rows`` as Postgres orders them: each key in turn, NULLs last."""
    ordered = list(rows)
    for key in reversed(keys):
        present = [r for r in ordered if r[key.column] is not None]
        present.sort(key=lambda r: r[key.column], reverse=key.descending)
        ordered = present + [r for r in ordered if r[key.column] is None]
    return ordered


# --- sorting and paging ------------------------------------------------------------


@pytest.mark.parametrize("sort", [*SORTS, *(f"-{s}" for s in SORTS), "grade,-due_date"])
def test_every_sort_pages_through_every_row_once_in_order(database, view, sort):
    t = tenant()
    rows = insert(database, make_rows(t, 41))
    q = query(("sort", sort), limit=6)
    got = [row for page in pages(view, caller(t), q) for row in page]
    assert ids(got) == ids(in_order(rows, q.sort))
    assert len(set(ids(got))) == 41


def test_rows_inserted_between_pages_appear_only_ahead_of_the_cursor(database, view):
    t = tenant()
    rows = make_rows(t, 20)
    for i, row in enumerate(rows):
        row["name"] = f"m{i:02}"
    insert(database, rows)
    inserted: dict[str, list] = {"behind": [], "ahead": []}

    def insert_around_cursor(page_number: int) -> None:
        if page_number > 3:
            return
        behind, ahead = make_rows(t, 2, start=100 + page_number * 2)
        behind["name"] = f"a-behind-{page_number}"  # before every seen row
        ahead["name"] = f"z-ahead-{page_number}"
        inserted["behind"].append(insert(database, [behind])[0]["id"])
        inserted["ahead"].append(insert(database, [ahead])[0]["id"])

    got = ids(
        r
        for p in pages(
            view, caller(t), query(("sort", "name"), limit=5), insert_around_cursor
        )
        for r in p
    )
    assert len(got) == len(set(got))
    assert set(ids(rows)) <= set(got)
    assert not set(inserted["behind"]) & set(got)
    assert set(inserted["ahead"]) <= set(got)


def test_rows_with_null_keys_inserted_mid_way_are_not_lost(database, view):
    t = tenant()
    rows = insert(database, make_rows(t, 30))
    late: list[uuid.UUID] = []

    def insert_nulls(page_number: int) -> None:
        if page_number == 2:
            extra = make_rows(t, 3, start=500)
            for row in extra:
                row["due_date"] = None
            late.extend(ids(insert(database, extra)))

    got = ids(
        r
        for p in pages(
            view, caller(t), query(("sort", "-due_date"), limit=4), insert_nulls
        )
        for r in p
    )
    assert sorted(got) == sorted([*ids(rows), *late])


def test_a_cursor_is_refused_with_other_filters_or_another_sort(database, view):
    t = tenant()
    insert(database, make_rows(t, 12))
    first = view.page(caller(t), ITEMS, query(("status", "open"), limit=2))
    assert first.next_cursor is not None
    for params in ([("status", "closed")], [("status", "open"), ("sort", "name")]):
        q = replace(query(*params, limit=2), cursor=first.next_cursor)
        with pytest.raises(InvalidCursorError):
            view.page(caller(t), ITEMS, q)


# --- filters -------------------------------------------------------------------


FILTERS = [
    ([("status", "open,closed")], lambda r: r["status"] in ("open", "closed")),
    ([("status", "open"), ("status", "draft")], lambda r: r["status"] != "closed"),
    ([("grade", "major")], lambda r: r["grade"] == "major"),
    ([("score", "0,3")], lambda r: r["score"] in (0, 3)),
    ([("archived", "true")], lambda r: r["archived"]),
    ([("archived", "false")], lambda r: not r["archived"]),
    ([("auditor", "bob")], lambda r: "bob" in r["team"]),
    ([("auditor", "alice,carol")], lambda r: "alice" in r["team"]),
    (
        [("due_date_from", "2024-01-03"), ("due_date_to", "2024-01-05")],
        lambda r: (
            r["due_date"] and date(2024, 1, 3) <= r["due_date"] <= date(2024, 1, 5)
        ),
    ),
    (
        [("due_date_to", "2024-01-02")],
        lambda r: r["due_date"] and r["due_date"] <= date(2024, 1, 2),
    ),
    (
        [
            ("issued_at_from", "2024-01-01T02:00:00Z"),
            ("issued_at_to", "2024-01-01T05:00:00+00:00"),
        ],
        lambda r: (
            BASE + timedelta(hours=2) <= r["issued_at"] <= BASE + timedelta(hours=5)
        ),
    ),
    ([("q", "gamma")], lambda r: "gamma" in r["name"].lower()),
    (
        [("q", "2025 acme")],
        lambda r: "2025" in r["number"] and "acme" in r["name"].lower(),
    ),
    (
        [("status", "draft"), ("q", "ltd"), ("grade", "minor,observation")],
        lambda r: (
            r["status"] == "draft"
            and "Ltd" in r["name"]
            and r["grade"] in ("minor", "observation")
        ),
    ),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_filters_return_exactly_the_matching_rows(database, view, params, expected):
    t = tenant()
    rows = insert(database, make_rows(t, 48))
    want = {r["id"] for r in rows if expected(r)}
    assert want, "the data must hold matches"
    got = [r for p in pages(view, caller(t), query(*params, limit=10)) for r in p]
    assert set(ids(got)) == want
    assert len(got) == len(want)


def test_organization_filter_matches_by_uuid(database, view):
    t = tenant()
    orgs = [uuid.uuid4(), uuid.uuid4()]
    rows = insert(database, make_rows(t, 10, orgs=orgs))
    got = view.page(caller(t), ITEMS, query(("organization_id", str(orgs[1]))))
    assert set(ids(got.items)) == {
        r["id"] for r in rows if r["organization_id"] == orgs[1]
    }


def test_a_date_bounds_a_timestamp_through_the_end_of_that_day(database, view):
    t = tenant()
    rows = make_rows(t, 4)
    moments = [
        "2024-03-09T23:59:59.999999",
        "2024-03-10T00:00:00",
        "2024-03-10T23:59:59.999999",
        "2024-03-11T00:00:00",
    ]
    for row, moment in zip(rows, moments, strict=True):
        row["issued_at"] = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    insert(database, rows)
    q = query(("issued_at_from", "2024-03-10"), ("issued_at_to", "2024-03-10"))
    assert set(ids(view.page(caller(t), ITEMS, q).items)) == {
        rows[1]["id"],
        rows[2]["id"],
    }


def test_free_text_is_literal_and_case_insensitive(database, view):
    t = tenant()
    rows = make_rows(t, 5)
    for row, name in zip(
        rows,
        ["100% Steel", "100 Percent", "acme_one", "AcmeXone", r"back\slash"],
        strict=True,
    ):
        row["name"] = name
    insert(database, rows)

    def names(text: str) -> set[str]:
        return {
            r["name"] for r in view.page(caller(t), ITEMS, query(("q", text))).items
        }

    assert names("100%") == {"100% Steel"}
    assert names("e_o") == {"acme_one"}
    assert names("ACME") == {"acme_one", "AcmeXone"}
    assert names("k\\s") == {r"back\slash"}
    assert names("%") == {"100% Steel"}


def named(rows: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    """``rows`` renamed, their key case-folded as a projection writes it."""
    for row, name in zip(rows, names, strict=True):
        row["name"], row["name_key"] = name, name.casefold()
    return rows


def test_a_prefix_is_literal_and_case_insensitive(database, view):
    t = tenant()
    insert(
        database,
        named(
            make_rows(t, 7),
            "100% Steel",
            "100 Percent",
            "acme_one",
            "AcmeXone",
            r"back\slash",
            "Straße Bau",
            "Steel 100%",
        ),
    )

    def names(prefix: str) -> set[str]:
        q = query(("name_prefix", prefix))
        return {r["name"] for r in view.page(caller(t), ITEMS, q).items}

    assert names("100%") == {"100% Steel"}
    assert names("ACME_") == {"acme_one"}
    assert names("acme") == {"acme_one", "AcmeXone"}
    assert names("BACK\\") == {r"back\slash"}
    assert names("STRASSE") == {"Straße Bau"}
    assert names("%") == set()
    assert names("_") == set()
    assert names("steel 1") == {"Steel 100%"}


def test_a_prefix_pages_in_name_order_and_a_btree_index_serves_it(database, view):
    t = tenant()
    rows = named(make_rows(t, 5), "alpha", "Alpine", "beta", "ALPS", "Alp%")
    insert(database, [*rows, *make_rows(t, 2000, start=5)])  # none start "alp"
    with database.connection() as conn:
        conn.execute(f"ANALYZE {SCHEMA}.items")
    q = query(("name_prefix", "Alp"), ("sort", "name"), limit=2)
    got = [[r["name"] for r in page] for page in pages(view, caller(t), q)]
    assert got == [["ALPS", "Alp%"], ["Alpine", "alpha"]]
    composed, params = statement(caller(t), ITEMS, q, limit=2)
    with database.connection() as conn, conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            row[0]
            for row in conn.execute(sql.SQL("EXPLAIN {}").format(composed), params)
        )
    assert "items_name_key" in plan
    assert "name_key >= 'alp'" in plan
    assert "name_key < 'alq'" in plan


# --- tenants and scopes ----------------------------------------------------------


def test_another_tenants_rows_are_never_returned(database, view):
    mine, theirs = tenant(), tenant()
    own = insert(database, make_rows(mine, 9))
    insert(database, make_rows(theirs, 9))
    got = [r for p in pages(view, caller(mine), query(limit=4)) for r in p]
    assert set(ids(got)) == set(ids(own))
    streamed = [r for batch in view.stream(caller(mine), ITEMS, query()) for r in batch]
    assert set(ids(streamed)) == set(ids(own))
    assert view.page(caller(tenant()), ITEMS, query()).items == []


def test_organization_and_audit_scopes_narrow_the_rows(database, view):
    t = tenant()
    orgs, audits = (
        [uuid.uuid4(), uuid.uuid4()],
        [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()],
    )
    rows = insert(database, make_rows(t, 36, orgs=orgs, audits=audits))

    def seen(principal: Principal) -> set[uuid.UUID]:
        return {r["id"] for p in pages(view, principal, query(limit=10)) for r in p}

    assert seen(caller(t, organization_ids=frozenset({orgs[0]}))) == {
        r["id"] for r in rows if r["organization_id"] == orgs[0]
    }
    assert seen(caller(t, audit_ids=frozenset({audits[1], audits[2]}))) == {
        r["id"] for r in rows if r["audit_id"] in (audits[1], audits[2])
    }
    both = caller(
        t, organization_ids=frozenset({orgs[1]}), audit_ids=frozenset({audits[0]})
    )
    assert seen(both) == {
        r["id"]
        for r in rows
        if r["organization_id"] == orgs[1] and r["audit_id"] == audits[0]
    }
    assert seen(caller(t, organization_ids=frozenset())) == set()


def test_a_scope_the_listing_cannot_express_returns_nothing(database, view):
    t = tenant()
    insert(database, make_rows(t, 5))
    unscoped = replace(ITEMS, audit_column=None)
    limited = caller(t, audit_ids=frozenset({uuid.uuid4()}))
    assert view.page(limited, unscoped, query()).items == []
    assert len(view.page(caller(t), unscoped, query()).items) == 5


def test_a_client_sees_only_the_rows_its_client_column_admits(database, view):
    t = tenant()
    rows = insert(database, make_rows(t, 12))
    gated = replace(ITEMS, client_column="archived")
    client = caller(t, roles=frozenset({Role.CLIENT_USER}))
    staff = caller(t, roles=frozenset({Role.AUDITOR}))
    admitted = {r["id"] for r in rows if r["archived"]}
    assert 0 < len(admitted) < len(rows)
    assert set(ids(view.page(client, gated, query()).items)) == admitted
    streamed = [r for batch in view.stream(client, gated, query()) for r in batch]
    assert set(ids(streamed)) == admitted
    assert len(view.page(staff, gated, query()).items) == len(rows)
    assert len(view.page(client, ITEMS, query()).items) == len(rows)


# --- CSV exports -------------------------------------------------------------------


def app_for(view: PostgresListingView, principal: Principal) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/items")
    async def list_items(request: Request) -> Response:
        return await list_response(request, principal, ITEMS, None, view=view)

    return app


def get(app: FastAPI, params) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/items", params=params)

    return asyncio.run(call())


def test_the_csv_export_equals_the_union_of_the_json_pages(database, view):
    t = tenant()
    insert(database, make_rows(t, 45))
    insert(database, make_rows(tenant(), 5))
    app = app_for(view, caller(t))
    params = [("status", "open,draft"), ("sort", "grade,-due_date")]
    items, cursor = [], None
    while True:
        body = get(
            app, [*params, ("limit", "8"), *([("cursor", cursor)] if cursor else [])]
        ).json()
        items += body["items"]
        if (cursor := body["next_cursor"]) is None:
            break
    answer = get(app, [*params, ("format", "csv")])
    assert answer.status_code == 200
    table = list(csv.DictReader(io.StringIO(answer.text, newline="")))
    assert table == [{k: csv_cell(v) for k, v in item.items()} for item in items]
    assert len(table) == 30


def test_an_export_reads_20000_rows_through_a_server_side_cursor(database, settings):
    t = tenant()
    rows = insert(database, make_rows(t, 20_000))
    view = PostgresListingView(database, batch_size=500)
    batches = view.stream(caller(t), ITEMS, query(("sort", "number")))
    first = next(batches)
    assert len(first) == 500
    assert fetching_backends(settings) == ["FETCH FORWARD 500 FROM "]
    rest = list(batches)
    assert [len(b) for b in rest] == [500] * 39
    streamed = [r["id"] for b in [first, *rest] for r in b]
    assert streamed == ids(sorted(rows, key=lambda r: r["number"]))
    assert fetching_backends(settings) == []

    answer = get(app_for(view, caller(t)), [("format", "csv")])
    lines = answer.text.split("\r\n")
    assert len(lines) == 20_002  # the header, every row, and the final CRLF
    assert lines[-1] == ""


def fetching_backends(settings) -> list[str]:
    """What other sessions of this database, idle inside a transaction, last
    ran: a FETCH from a listing's server-side cursor (its name cut)."""
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        found = conn.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND state = 'idle in transaction'"
            " AND query LIKE 'FETCH FORWARD%%listing_%%'"
        ).fetchall()
    return [q.split('"listing_')[0] for (q,) in found]


def test_closing_an_export_early_ends_its_transaction(database, settings):
    t = tenant()
    insert(database, make_rows(t, 30))
    batches = PostgresListingView(database, batch_size=5).stream(
        caller(t), ITEMS, query()
    )
    next(batches)
    assert len(fetching_backends(settings)) == 1
    batches.close()
    assert fetching_backends(settings) == []


def test_an_export_past_the_cap_fails_rather_than_truncates(database):
    t = tenant()
    insert(database, make_rows(t, 12))
    view = PostgresListingView(database, batch_size=5, max_rows=10)
    batches = view.stream(caller(t), ITEMS, query())
    assert len(next(batches)) == 5
    assert len(next(batches)) == 5
    with pytest.raises(ExportTooLargeError):
        next(batches)
    small = PostgresListingView(database, batch_size=20, max_rows=10)
    answer = get(app_for(small, caller(t)), [("format", "csv")])
    assert answer.status_code == 400
    assert answer.json()["code"] == "export-too-large"


def test_a_download_the_client_abandons_releases_its_transaction(database, settings):
    t = tenant()
    insert(database, make_rows(t, 30))
    view = PostgresListingView(database, batch_size=5)
    sent: list[bytes] = []

    async def send(message) -> None:
        if message["type"] == "http.response.body" and len(sent) == 2:
            assert len(fetching_backends(settings)) == 1  # mid-stream
            raise OSError("client went away")
        sent.append(message.get("body", b""))

    async def receive():
        return {"type": "http.request", "body": b""}

    async def download() -> None:
        response = await csv_response(view, caller(t), ITEMS, query())
        scope = {"type": "http", "asgi": {"spec_version": "2.4"}}
        with pytest.raises(ClientDisconnect):
            await response(scope, receive, send)
        assert fetching_backends(settings) == []  # while the response lives on

    asyncio.run(download())
    assert sent[1].startswith(b"id,")
