"""Listings: query-string validation, sorts, cursors, SQL shape, HTTP glue.

No sockets: the HTTP tests run the ASGI app in process over an in-memory view.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError

from domain.principal import Principal
from infra.postgres.listing import decode_cursor, encode_cursor, statement
from projections.listing import (
    Condition,
    Filter,
    InvalidCursorError,
    InvalidFilterValueError,
    Listing,
    ListQuery,
    Op,
    Page,
    QueryError,
    Sort,
    UnknownFilterError,
    UnknownSortError,
)
from projections.rows import Column, Table
from read_api.listing import (
    MAX_LIMIT,
    csv_cell,
    list_response,
    listing_openapi,
    parse_request,
)
from read_api.problems import install_problem_handlers

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
        Column("number", "text", nullable=False),
        Column("country", "text", nullable=False),
        Column("status", "text", nullable=False),
        Column("grade", "text"),
        Column("due_date", "date"),
        Column("issued_at", "timestamptz", nullable=False),
        Column("score", "integer", nullable=False),
        Column("archived", "boolean", nullable=False),
    ),
    key=("tenant_id", "id"),
)
ITEMS = Listing(
    name="items",
    projection="listing_test",
    table=TABLE,
    filters=(
        Filter.exact("status", allowed=("open", "closed", "draft")),
        Filter.exact("organization_id"),
        Filter.exact("score"),
        Filter.date_range("due_date"),
        Filter.date_range("issued_at"),
        Filter.text("q", "name", "number"),
        Filter.flag("archived"),
        Filter.member("auditor", "team"),
        Filter.prefix("name_prefix", "name_key"),
        Filter.exact("country", upper=True),
    ),
    sorts=("number", "due_date", "issued_at", Sort("name", "name_key")),
    default_sort="-issued_at",
    columns=("id", "name", "number", "status", "due_date", "issued_at", "team"),
    organization_column="organization_id",
    audit_column="audit_id",
    team_column="team",
)
ALICE = Principal("tenant-a", "alice")


def parse(*params: tuple[str, str], accept: str = ""):
    return parse_request(ITEMS, list(params), accept)


def conditions(*params: tuple[str, str]) -> dict[str, Condition]:
    return {c.parameter: c for c in parse(*params).query.conditions}


# --- unknown names are refused, naming the allowed ones -------------------


def test_an_unknown_parameter_names_every_allowed_one():
    with pytest.raises(UnknownFilterError) as caught:
        parse(("stauts", "open"))
    error = caught.value
    assert error.parameter == "stauts"
    for name in ("status", "due_date_from", "due_date_to", "q", "sort", "limit"):
        assert name in error.allowed
        assert name in error.detail


def test_a_date_range_is_only_from_and_to():
    with pytest.raises(UnknownFilterError):
        parse(("due_date", "2024-01-01"))


def test_an_unknown_sort_names_the_allowed_fields():
    with pytest.raises(UnknownSortError) as caught:
        parse(("sort", "-status"))
    assert "-due_date" in caught.value.allowed
    assert "name" in caught.value.allowed
    assert "status" not in caught.value.allowed
    assert "-due_date" in caught.value.detail


def test_a_sort_field_may_not_repeat():
    with pytest.raises(UnknownSortError):
        parse(("sort", "number,-number"))


def test_a_value_outside_the_allowed_ones_names_them():
    with pytest.raises(InvalidFilterValueError) as caught:
        parse(("status", "open,reopened"))
    assert caught.value.allowed == ("open", "closed", "draft")
    assert "'reopened'" in caught.value.detail


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("organization_id", "not-a-uuid"),
        ("score", "1.5"),
        ("score", str(2**63)),
        ("due_date_from", "2024-13-01"),
        ("issued_at_to", "yesterday"),
        ("issued_at_to", "0001-01-01T00:00:00+05:00"),
        ("issued_at_to", "9999-12-31"),
        ("archived", "yes"),
        ("q", "   "),
        ("status", ""),
        ("q", "x" * 201),
        ("number", "1"),  # not a filter at all
        ("name_prefix", "  "),
        ("name_prefix", "x" * 201),
    ],
)
def test_a_bad_value_is_a_query_error_naming_the_parameter(name, value):
    with pytest.raises(QueryError) as caught:
        parse((name, value))
    assert caught.value.parameter == name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("q", "nul\x00byte"),
        ("status", "open\x85"),
        ("name_prefix", "a\tb"),
        ("sort", "name\n"),
        ("cursor", "\x1b[0m"),
    ],
)
def test_a_value_that_is_not_one_line_of_text_is_a_422_naming_it(name, value):
    with pytest.raises(RequestValidationError) as caught:
        parse((name, value))
    [error] = caught.value.errors()
    assert error["loc"] == ("query", name)
    assert error["type"] == "unsafe_character"


def test_an_in_list_is_capped():
    with pytest.raises(InvalidFilterValueError):
        parse(("organization_id", ",".join(str(uuid4()) for _ in range(101))))


@pytest.mark.parametrize("name", ["sort", "cursor", "limit", "format"])
def test_a_reserved_parameter_given_twice_is_refused(name):
    with pytest.raises(QueryError) as caught:
        parse((name, "1"), (name, "2"))
    assert caught.value.parameter == name


@pytest.mark.parametrize("name", ["q", "name_prefix"])
def test_a_single_valued_filter_given_twice_is_refused(name):
    with pytest.raises(InvalidFilterValueError) as caught:
        parse((name, "a"), (name, "b"))
    assert caught.value.parameter == name


# --- values are typed by their column ----------------------------------------


def test_exact_accepts_comma_lists_and_repeats():
    found = conditions(("status", "open,closed"), ("status", "draft"))
    assert found["status"].op is Op.ANY
    assert found["status"].values == ("open", "closed", "draft")


def test_values_are_typed_by_their_column():
    org = uuid4()
    found = conditions(
        ("organization_id", str(org)), ("score", "-7"), ("archived", "False")
    )
    assert found["organization_id"].values == (org,)
    assert found["score"].values == (-7,)
    assert found["archived"].values == (False,)


def test_date_bounds_are_inclusive():
    found = conditions(("due_date_from", "2024-01-01"), ("due_date_to", "2024-01-31"))
    assert found["due_date_from"] == Condition(
        "due_date_from", Op.GTE, ("due_date",), (date(2024, 1, 1),)
    )
    assert found["due_date_to"].op is Op.LTE


def test_a_date_bounds_a_timestamp_by_the_whole_day_utc():
    found = conditions(("issued_at_from", "2024-05-01"), ("issued_at_to", "2024-05-01"))
    assert found["issued_at_from"].values == (datetime(2024, 5, 1, tzinfo=UTC),)
    assert found["issued_at_to"].op is Op.LT
    assert found["issued_at_to"].values == (datetime(2024, 5, 2, tzinfo=UTC),)


def test_a_datetime_without_offset_is_utc():
    found = conditions(("issued_at_to", "2024-05-01T10:30:00"))
    assert found["issued_at_to"] == Condition(
        "issued_at_to",
        Op.LTE,
        ("issued_at",),
        (datetime(2024, 5, 1, 10, 30, tzinfo=UTC),),
    )


def test_a_datetime_with_an_offset_is_compared_in_utc():
    found = conditions(("issued_at_from", "2024-05-01T12:00:00+02:00"))
    assert found["issued_at_from"].values == (datetime(2024, 5, 1, 10, tzinfo=UTC),)


def test_free_text_is_split_into_terms_over_its_columns():
    found = conditions(("q", "  acme   2024 "))
    assert found["q"] == Condition("q", Op.TEXT, ("name", "number"), ("acme", "2024"))


def test_a_member_filter_overlaps_the_team():
    assert conditions(("auditor", "alice,bob"))["auditor"].op is Op.OVERLAPS


def test_a_prefix_is_case_folded_and_taken_whole():
    found = conditions(("name_prefix", " Straße Nord "))
    assert found["name_prefix"] == Condition(
        "name_prefix", Op.PREFIX, ("name_key",), ("strasse nord",)
    )


def test_an_upper_case_filter_takes_values_in_any_case():
    assert conditions(("country", "de,Fr"), ("country", "GB"))["country"].values == (
        "DE",
        "FR",
        "GB",
    )


def test_values_are_normalised_before_they_are_checked_against_the_allowed():
    listing = Listing(
        name="x",
        projection="x",
        table=TABLE,
        filters=(Filter.exact("country", upper=True, allowed=("DE", "FR")),),
    )
    [found] = parse_request(listing, [("country", "fr")]).query.conditions
    assert found.values == ("FR",)
    with pytest.raises(InvalidFilterValueError) as caught:
        parse_request(listing, [("country", "gb")])
    assert "'GB'" in caught.value.detail


# --- sort, limit, format --------------------------------------------------------


def test_the_default_sort_ends_with_the_id_in_its_direction():
    keys = parse().query.sort
    assert [(k.column, k.descending) for k in keys] == [
        ("issued_at", True),
        ("id", True),
    ]


def test_a_sort_name_can_order_by_another_column():
    keys = parse(("sort", "name,-due_date")).query.sort
    assert [(k.column, k.descending, k.nullable) for k in keys] == [
        ("name_key", False, False),
        ("due_date", True, True),
        ("id", True, False),
    ]


def test_limit_defaults_and_is_capped_with_an_error():
    assert parse().query.limit == 50
    assert parse(("limit", str(MAX_LIMIT))).query.limit == MAX_LIMIT
    for bad in (str(MAX_LIMIT + 1), "0", "-1", "ten"):
        with pytest.raises(InvalidFilterValueError) as caught:
            parse(("limit", bad))
        assert str(MAX_LIMIT) in caught.value.detail


def test_csv_is_asked_for_by_format_or_accept():
    assert not parse().csv
    assert parse(("format", "csv")).csv
    assert parse(accept="text/csv").csv
    assert not parse(("format", "json"), accept="text/csv").csv
    with pytest.raises(InvalidFilterValueError) as caught:
        parse(("format", "xlsx"))
    assert caught.value.allowed == ("json", "csv")


def test_an_export_has_no_pages():
    with pytest.raises(QueryError):
        parse(("format", "csv"), ("limit", "10"))
    with pytest.raises(QueryError):
        parse(("format", "csv"), ("cursor", "abc"))


# --- declarations are checked when made ---------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"filters": (Filter.exact("colour"),)},
        {"filters": (Filter.text("q", "organization_id"),)},
        {"filters": (Filter.flag("status"),)},
        {"filters": (Filter.exact("status"), Filter.exact("status"))},
        {"filters": (Filter.exact("sort", "status"),)},
        {"sorts": ("colour",)},
        {"sorts": ("team",)},
        {"default_sort": "-status"},
        {"organization_column": "org"},
        {"client_column": "status"},
        {"client_column": "colour"},
        {"filters": (Filter.prefix("p", "score"),)},
        {"filters": (Filter.prefix("p", "team"),)},
        {"filters": (Filter.exact("score", upper=True),)},
    ],
)
def test_a_listing_naming_what_its_table_cannot_do_is_refused(changes):
    fields = {"name": "x", "projection": "x", "table": TABLE, **changes}
    with pytest.raises(ValueError, match="listing x"):
        Listing(**fields)


def test_a_listed_table_needs_an_id():
    table = Table(
        "t", (Column("tenant_id", "text", False), Column("k", "uuid")), ("tenant_id",)
    )
    with pytest.raises(ValueError, match="id"):
        Listing(name="t", projection="t", table=table)


# --- cursors ------------------------------------------------------------------------


def test_a_cursor_round_trips_typed_values_including_null():
    query = parse(("sort", "-due_date,issued_at")).query
    row = {
        "due_date": None,
        "issued_at": datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC),
        "id": uuid4(),
    }
    cursor = encode_cursor(query, row)
    again = ListQuery(query.conditions, query.sort, cursor, 10)
    assert decode_cursor(again) == [None, row["issued_at"], row["id"]]


def test_a_cursor_is_refused_with_other_filters_or_sort():
    query = parse(("status", "open")).query
    cursor = encode_cursor(query, {"issued_at": datetime.now(UTC), "id": uuid4()})
    for params in ([("status", "closed")], [("status", "open"), ("sort", "issued_at")]):
        other = parse(*params, ("cursor", cursor)).query
        with pytest.raises(InvalidCursorError, match="other filters"):
            decode_cursor(other)
    same_filters_reordered = parse(("status", "open"), ("cursor", cursor)).query
    assert len(decode_cursor(same_filters_reordered)) == 2


def test_a_cursor_holds_for_the_same_prefix_in_another_case():
    query = parse(("name_prefix", "ACME")).query
    cursor = encode_cursor(query, {"issued_at": datetime.now(UTC), "id": uuid4()})
    again = parse(("name_prefix", "acme"), ("cursor", cursor)).query
    assert len(decode_cursor(again)) == 2


@pytest.mark.parametrize("cursor", ["!!!", "eyJ9", "W10", "eyJmIjoiIiwiayI6W119"])
def test_a_forged_cursor_is_refused(cursor):
    with pytest.raises(InvalidCursorError):
        decode_cursor(parse(("cursor", cursor)).query)


def test_a_cursor_with_a_value_of_the_wrong_type_is_refused():
    query = parse().query
    good = encode_cursor(query, {"issued_at": datetime.now(UTC), "id": uuid4()})
    raw = json.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    raw["k"][1] = 42
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()
    with pytest.raises(InvalidCursorError):
        decode_cursor(ListQuery(query.conditions, query.sort, forged))


# --- the statement ------------------------------------------------------------------


def sql_of(principal: Principal, *params: tuple[str, str], after=None):
    composed, values = statement(principal, ITEMS, parse(*params).query, after=after)
    return composed.as_string(), values


def test_the_tenant_is_the_first_condition_and_values_are_parameters():
    text, values = sql_of(ALICE, ("q", "x';DROP TABLE items;--"))
    assert '"rm_listing_test"."items" WHERE "tenant_id" = %(p0)s AND' in text
    assert values["p0"] == "tenant-a"
    assert "DROP" not in text
    assert "%x';DROP%" in values.values()


def test_like_wildcards_in_free_text_are_escaped():
    _, values = sql_of(ALICE, ("q", r"100%_a\b"))
    assert values["p1"] == r"%100\%\_a\\b%"


def test_a_prefix_is_a_case_sensitive_like_on_the_folded_key_with_wildcards_escaped():
    text, values = sql_of(ALICE, ("name_prefix", r"100%_A\b"))
    assert '"name_key" LIKE %(p1)s' in text
    assert "ILIKE" not in text
    assert values["p1"] == r"100\%\_a\\b%"


def test_a_scope_the_listing_cannot_express_denies():
    bare = Listing(name="bare", projection="x", table=TABLE)
    limited = Principal("t", "c", organization_ids=frozenset({uuid4()}))
    composed, _ = statement(limited, bare, ListQuery((), bare.sort_keys(None)))
    assert "FALSE" in composed.as_string()


def test_an_empty_scope_denies_and_a_scope_filters():
    text, _ = sql_of(Principal("t", "c", audit_ids=frozenset()))
    assert "AND FALSE" in text
    org = uuid4()
    text, values = sql_of(Principal("t", "c", organization_ids=frozenset({org})))
    assert '"organization_id" = ANY(%(p1)s)' in text
    assert values["p1"] == [org]


def test_after_a_null_only_nulls_with_a_greater_tiebreaker_follow():
    ident = uuid4()
    text, _ = sql_of(ALICE, ("sort", "due_date"), after=[None, ident])
    assert '("due_date" IS NULL AND "id" > %(p1)s)' in text
    text, _ = sql_of(ALICE, ("sort", "-due_date"), after=[date(2024, 1, 1), ident])
    assert '("due_date" < %(p1)s OR "due_date" IS NULL)' in text
    assert '"due_date" DESC NULLS LAST, "id" DESC' in text


# --- HTTP glue over an in-memory view ----------------------------------------------


class MemoryView:
    """Pages and streams over a fixed list (order as given)."""

    def __init__(self, rows):
        self.rows = rows
        self.closed = False

    def page(self, principal, listing, query) -> Page:
        return Page(
            self.rows[: query.limit], "next" if len(self.rows) > query.limit else None
        )

    def stream(self, principal, listing, query):
        try:
            for i in range(0, len(self.rows), 2):
                yield self.rows[i : i + 2]
        finally:
            self.closed = True


def app_for(view: MemoryView) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/items", openapi_extra=listing_openapi(ITEMS))
    async def list_items(request: Request) -> Response:
        return await list_response(request, ALICE, ITEMS, None, view=view)

    return app


def get(app: FastAPI, path: str, **kwargs) -> httpx.Response:
    """One request to ``app`` in process (no socket)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get(path, **kwargs)

    return asyncio.run(call())


ROWS = [
    {
        "id": UUID(int=i),
        "name": name,
        "number": f"N-{i}",
        "status": "open",
        "due_date": date(2024, 1, i) if i % 2 else None,
        "issued_at": datetime(2024, 1, i, 9, tzinfo=UTC),
        "team": ["alice", "bob"],
    }
    for i, name in enumerate(['Acme, "Steel"', "Béta\nline", "plain"], start=1)
]


def test_json_and_csv_answers_carry_the_same_values():
    view = MemoryView(ROWS)
    app = app_for(view)
    page = get(app, "/items").json()
    answer = get(app, "/items", params={"format": "csv"})
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="items.csv"'
    assert answer.text.startswith("id,name,number,status,due_date,issued_at,team\r\n")
    table = list(csv.DictReader(io.StringIO(answer.text, newline="")))
    expected = [{k: csv_cell(v) for k, v in item.items()} for item in page["items"]]
    assert table == expected
    assert table[0]["name"] == 'Acme, "Steel"'
    assert table[1]["name"] == "Béta\nline"
    assert (
        table[0]["issued_at"] == page["items"][0]["issued_at"] == "2024-01-01T09:00:00Z"
    )
    assert table[1]["due_date"] == ""
    assert table[0]["team"] == '["alice","bob"]'
    assert view.closed


def test_an_undeclared_parameter_is_a_400_problem_naming_the_allowed():
    answer = get(app_for(MemoryView(ROWS)), "/items", params={"colour": "red"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["code"] == "unknown-parameter"
    assert "status" in body["allowed"]
    assert body["errors"][0]["field"] == "colour"


def test_the_openapi_document_declares_every_filter_and_csv():
    document = get(app_for(MemoryView([])), "/openapi.json").json()
    operation = document["paths"]["/items"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert set(ITEMS.parameters) | {"sort", "cursor", "limit", "format"} <= names
    status = next(p for p in operation["parameters"] if p["name"] == "status")
    assert status["schema"]["items"]["enum"] == ["open", "closed", "draft"]
    prefix = next(p for p in operation["parameters"] if p["name"] == "name_prefix")
    assert prefix["schema"]["type"] == "string"
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert "400" in operation["responses"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555", "'+1 555"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Pumps", "Pumps"),
        (-5, "-5"),
    ],
)
def test_csv_cells_never_start_a_spreadsheet_formula(value, cell):
    assert csv_cell(value) == cell
