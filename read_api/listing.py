"""Collections over HTTP: query strings in, JSON pages or a CSV stream out.

A route serves a :class:`Listing` in a few lines::

    @router.get("", response_model=AuditPage, openapi_extra=listing_openapi(AUDITS))
    async def list_audits(
        request: Request, principal: Reader, position: MinPosition
    ) -> Response:
        \"\"\"Audits of the caller's tenant and scopes.\"\"\"
        return await list_response(request, principal, AUDITS, position)

Query parameters: the listing's filters, ``sort`` (``-issue_date,number``),
``cursor``, ``limit``, ``min_position`` (read through the route's
``MinPosition``) and ``format`` (``json``, or ``csv``; ``Accept: text/csv``
also asks for CSV). Any other parameter is a 400 naming the allowed ones.

``limit`` defaults to 50; above 200 it is a 400 naming the cap rather than
silently clamped, so a client never mistakes a short page for the end.
``format=csv`` exports the whole filtered list, without pages (``cursor`` and
``limit`` are then a 400): a header row, then RFC 4180 rows whose values are
written as in the JSON (ISO dates, ``true``/``false``, lists as JSON; NULL as
an empty field), read in batches from a server-side cursor on a worker
thread, so neither side holds the full result.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic_core import to_jsonable_python
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from commands.http.text import checked_parameter
from domain.principal import Principal
from infra.postgres.listing import PostgresListingView
from projections.listing import (
    RESERVED,
    Condition,
    Filter,
    FilterKind,
    InvalidCursorError,
    InvalidFilterValueError,
    Listing,
    ListingView,
    ListQuery,
    Op,
    UnknownFilterError,
    base_type,
)
from projections.rows import Row
from read_api.consistency import wait_for_projection

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_VALUE_LENGTH = 200
MAX_VALUES = 100
"""Most values one ``in`` list or free-text search may carry."""
MAX_CURSOR_LENGTH = 1024
FORMATS = ("json", "csv")
_INT = re.compile(r"-?[0-9]{1,19}")


@dataclass(frozen=True)
class ListRequest:
    """A parsed list request: the query, and whether to export CSV."""

    query: ListQuery
    csv: bool


def parse_request(
    listing: Listing, params: Sequence[tuple[str, str]], accept: str = ""
) -> ListRequest:
    """Validate every query parameter (``params`` in order, repeats kept).

    Raises:
        QueryError: An unknown parameter, bad value, sort or format.
        RequestValidationError: A value that is not a single line of text
            (:mod:`commands.http.text`; a 422 naming the parameter).
    """
    reserved: dict[str, str] = {}
    filters: dict[str, list[str]] = {}
    known = listing.parameters
    allowed = [*sorted(known), *sorted(RESERVED)]
    for name, value in params:
        checked_parameter(value, name)
        if name in reserved:
            raise InvalidFilterValueError(name, f"{name} given more than once")
        if name in RESERVED:
            reserved[name] = value
        elif name in known:
            filters.setdefault(name, []).append(value)
        else:
            raise UnknownFilterError(
                name,
                f"unknown query parameter {name!r}; allowed: {', '.join(allowed)}",
                allowed,
            )
    export = _format(reserved.get("format"), accept) == "csv"
    if export and ("cursor" in reserved or "limit" in reserved):
        raise InvalidFilterValueError(
            "cursor" if "cursor" in reserved else "limit",
            "format=csv exports every matching row: cursor and limit do not apply",
        )
    conditions = tuple(
        c for f in listing.filters for c in _conditions(listing, f, filters)
    )
    query = ListQuery(
        conditions,
        listing.sort_keys(reserved.get("sort")),
        _cursor(reserved.get("cursor")),
        _limit(reserved.get("limit")),
    )
    return ListRequest(query, export)


def _format(value: str | None, accept: str) -> str:
    if value is None:
        return "csv" if "text/csv" in accept.lower() else "json"
    if value not in FORMATS:
        raise InvalidFilterValueError(
            "format", f"format must be one of {', '.join(FORMATS)}", FORMATS
        )
    return value


def _cursor(value: str | None) -> str | None:
    if value is not None and not 0 < len(value) <= MAX_CURSOR_LENGTH:
        raise InvalidCursorError("cursor", "cursor is not one this API issued")
    return value


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,4}", value) or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidFilterValueError(
            "limit", f"limit must be an integer from 1 to {MAX_LIMIT} (the cap)"
        )
    return int(value)


def _conditions(
    listing: Listing, f: Filter, given: dict[str, list[str]]
) -> list[Condition]:
    kind = base_type(listing.column(f.columns[0]))
    found = []
    for parameter in f.parameters:
        raw = given.get(parameter)
        if raw is None:
            continue
        if f.kind in (FilterKind.EXACT, FilterKind.MEMBER):
            values = [_value(parameter, kind, v, f) for r in raw for v in r.split(",")]
            op = Op.ANY if f.kind is FilterKind.EXACT else Op.OVERLAPS
            found.append(
                Condition(parameter, op, f.columns, _bounded(parameter, values))
            )
        elif len(raw) > 1:
            raise InvalidFilterValueError(
                parameter, f"{parameter} given more than once"
            )
        elif f.kind is FilterKind.TEXT:
            terms = [_value(parameter, "text", t) for t in raw[0].split()]
            if not terms:
                raise InvalidFilterValueError(parameter, f"{parameter} is empty")
            found.append(
                Condition(parameter, Op.TEXT, f.columns, _bounded(parameter, terms))
            )
        elif f.kind is FilterKind.PREFIX:
            value = _value(parameter, "text", raw[0], f)
            found.append(Condition(parameter, Op.PREFIX, f.columns, (value,)))
        elif f.kind is FilterKind.BOOL:
            value = _value(parameter, "boolean", raw[0])
            found.append(Condition(parameter, Op.ANY, f.columns, (value,)))
        else:
            found.append(_bound(parameter, kind, f.columns, raw[0]))
    return found


def _bounded(parameter: str, values: list[Any]) -> tuple[Any, ...]:
    if len(values) > MAX_VALUES:
        raise InvalidFilterValueError(
            parameter, f"{parameter} has more than {MAX_VALUES} values"
        )
    return tuple(values)


def _bound(parameter: str, kind: str, columns: tuple[str, ...], raw: str) -> Condition:
    """One end of a range, inclusive: a date bounds a timestamp column by the
    whole day (UTC)."""
    lower = parameter.endswith("_from")
    value = _value(parameter, kind, raw)
    if kind == "timestamptz" and not isinstance(value, datetime):
        value = datetime.combine(value, time(), UTC)
        if not lower:
            try:
                return Condition(
                    parameter, Op.LT, columns, (value + timedelta(days=1),)
                )
            except OverflowError as e:
                raise InvalidFilterValueError(
                    parameter, f"{parameter} is out of range"
                ) from e
    return Condition(parameter, Op.GTE if lower else Op.LTE, columns, (value,))


_TYPE_NAMES = {
    "uuid": "UUID",
    "integer": "integer",
    "bigint": "integer",
    "date": "ISO date (YYYY-MM-DD)",
    "timestamptz": "ISO date or date-time",
    "boolean": "boolean (true or false)",
}


def _value(parameter: str, kind: str, raw: str, f: Filter | None = None) -> Any:
    """``raw`` as a value of the column type ``kind``, rewritten as ``f``'s
    column stores it and checked against its allowed values."""
    value = raw.strip()
    if not value or len(value) > MAX_VALUE_LENGTH:
        raise InvalidFilterValueError(
            parameter, f"{parameter} needs 1 to {MAX_VALUE_LENGTH} characters"
        )
    value = f.normalised(value) if f is not None else value
    allowed = f.allowed if f is not None else None
    if allowed is not None and value not in allowed:
        raise InvalidFilterValueError(
            parameter,
            f"{parameter} cannot be {value!r}; allowed: {', '.join(allowed)}",
            allowed,
        )
    try:
        return _typed(kind, value)
    except (ValueError, KeyError, OverflowError) as e:
        raise InvalidFilterValueError(
            parameter, f"{parameter} is not a valid {_TYPE_NAMES[kind]}: {value!r}"
        ) from e


def _typed(kind: str, value: str) -> Any:
    if kind == "uuid":
        return UUID(value)
    if kind in ("integer", "bigint"):
        if not _INT.fullmatch(value) or not -(2**63) <= int(value) < 2**63:
            raise ValueError(value)
        return int(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "timestamptz":
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if kind == "boolean":
        return {"true": True, "false": False}[value.lower()]
    return value


def listing_view(request: Request) -> ListingView:
    """A listing view over the app's read-model database (holds no state)."""
    return PostgresListingView(request.app.state.container.database)


async def list_response(
    request: Request,
    principal: Principal,
    listing: Listing,
    position: int | None,
    *,
    view: ListingView | None = None,
    derived: Derived | None = None,
) -> Response:
    """Answer a list request: a JSON page, or a CSV export of every row.

    Args:
        request: Its query parameters and ``Accept`` header are read.
        principal: The caller; the answer never leaves its tenant and scopes.
        listing: The collection.
        position: ``min_position``: wait (bounded) for the listing's projection.
        view: Defaults to the app's :class:`PostgresListingView`.
        derived: Columns computed from each row at answer time (e.g. a
            finding's ``overdue``, which depends on today's date).

    Raises:
        QueryError: An unknown parameter, bad value, sort, cursor or format.
        ReadModelBehindError: The projection did not reach ``position`` in time.
    """
    parsed = parse_request(
        listing, request.query_params.multi_items(), request.headers.get("accept", "")
    )
    await wait_for_projection(request, listing.projection, position)
    view = view or listing_view(request)
    if parsed.csv:
        return await csv_response(view, principal, listing, parsed.query, derived)
    page = await run_in_threadpool(view.page, principal, listing, parsed.query)
    items = [derived.add(r) for r in page.items] if derived else page.items
    return JSONResponse(
        {"items": to_jsonable_python(items), "next_cursor": page.next_cursor}
    )


@dataclass(frozen=True)
class Derived:
    """Columns a route computes from each row as it answers.

    Attributes:
        columns: Their names (appended to the CSV header).
        compute: The row's derived values, by name.
    """

    columns: tuple[str, ...]
    compute: Callable[[Row], Row]

    def add(self, row: Row) -> Row:
        """``row`` with its derived columns."""
        return {**row, **self.compute(row)}

    def batches(
        self, batches: Generator[list[Row], None, None]
    ) -> Generator[list[Row], None, None]:
        """``batches`` with derived columns; closing it closes them."""
        try:
            for batch in batches:
                yield [self.add(row) for row in batch]
        finally:
            batches.close()


class CsvResponse(StreamingResponse):
    """A CSV download streamed from ``batches``, which it closes however the
    response ends (sent, failed, or the client gone), releasing their
    connection at once.

    Args:
        columns: The header row, and the keys of each row.
        first: The first batch, already read (``None``: no rows).
        batches: The rest, read one batch at a time on a worker thread.
        filename: Offered to the client.
    """

    media_type = "text/csv; charset=utf-8"

    def __init__(
        self,
        columns: Sequence[str],
        first: list[Row] | None,
        batches: Generator[list[Row], None, None],
        filename: str,
    ) -> None:
        disposition = f'attachment; filename="{filename}"'
        super().__init__(
            self._lines(columns, first, batches),
            headers={"Content-Disposition": disposition},
        )
        self._batches = batches

    @staticmethod
    async def _lines(
        columns: Sequence[str],
        first: list[Row] | None,
        batches: Generator[list[Row], None, None],
    ) -> AsyncIterator[bytes]:
        yield _csv_lines([list(columns)])
        batch = first
        while batch is not None:
            yield _csv_lines([[csv_cell(row[c]) for c in columns] for row in batch])
            batch = await run_in_threadpool(next, batches, None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._batches.close)


async def csv_response(
    view: ListingView,
    principal: Principal,
    listing: Listing,
    query: ListQuery,
    derived: Derived | None = None,
) -> CsvResponse:
    """Every row ``query`` matches as CSV, streamed batch by batch.

    The first batch is read before the response starts, so that an
    unreachable database or an export past the cap is still answered with a
    problem rather than a broken file.
    """
    batches = view.stream(principal, listing, query)
    columns = listing.output_columns
    if derived is not None:
        batches = derived.batches(batches)
        columns = (*columns, *derived.columns)
    try:
        first = await run_in_threadpool(next, batches, None)
    except BaseException:
        await run_in_threadpool(batches.close)
        raise
    return CsvResponse(columns, first, batches, f"{listing.name}.csv")


def _csv_lines(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)  # excel dialect: RFC 4180, CRLF
    return buffer.getvalue().encode()


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """``value`` as a CSV field, written as the JSON answer writes it.

    Text that a spreadsheet would run as a formula (starting with ``=``,
    ``+``, ``-``, ``@``, tab or carriage return) is prefixed with ``'``, as
    OWASP advises against CSV injection; numbers are written as they are.
    """
    if value is None:
        return ""
    plain = to_jsonable_python(value)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, list | dict):
        return json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
    text = str(plain)
    if isinstance(plain, str) and text.startswith(_FORMULA_STARTS):
        return f"'{text}"
    return text


_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "minLength": 1, "maxLength": MAX_VALUE_LENGTH},
    "text[]": {"type": "string", "minLength": 1, "maxLength": MAX_VALUE_LENGTH},
    "uuid": {"type": "string", "format": "uuid"},
    "integer": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
    "bigint": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
    "date": {"type": "string", "format": "date"},
    "timestamptz": {"type": "string", "format": "date-time"},
    "boolean": {"type": "boolean"},
}


def listing_openapi(listing: Listing) -> dict[str, Any]:
    """``openapi_extra`` for a list route: every filter, ``sort``, ``cursor``,
    ``limit`` and ``format``, and the CSV and 400 answers (the route itself
    declares only its dependencies, e.g. ``MinPosition``)."""
    sorts = [v for name in sorted(listing.sort_fields) for v in (name, f"-{name}")]
    parameters = [
        *(
            _filter_parameter(listing, f, name)
            for f in listing.filters
            for name in f.parameters
        ),
        _query(
            "sort",
            {"type": "string", "enum": sorts},
            f"Order, default {listing.default_sort}; several comma-separated,"
            " `-` for descending",
        ),
        _query(
            "cursor",
            {"type": "string", "minLength": 1, "maxLength": MAX_CURSOR_LENGTH},
            "`next_cursor` of the previous page, with the same filters and sort",
        ),
        _query(
            "limit",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
            f"Page size, at most {MAX_LIMIT}",
        ),
        _query(
            "format",
            {"type": "string", "enum": list(FORMATS)},
            "`csv` downloads every matching row (no cursor or limit)",
        ),
    ]
    problem = {"application/problem+json": {"schema": {"type": "object"}}}
    return {
        "parameters": parameters,
        "responses": {
            "200": {"content": {"text/csv": {"schema": {"type": "string"}}}},
            "400": {
                "description": "Unknown parameter, bad value, sort or cursor",
                "content": problem,
            },
        },
    }


def _filter_parameter(listing: Listing, f: Filter, name: str) -> dict[str, Any]:
    schema = dict(_SCHEMAS[base_type(listing.column(f.columns[0]))])
    if f.allowed is not None:
        schema = {"type": "string", "enum": list(f.allowed)}
    if f.kind in (FilterKind.EXACT, FilterKind.MEMBER):
        schema = {"type": "array", "items": schema, "maxItems": MAX_VALUES}
    if f.kind is FilterKind.DATE_RANGE:
        bound = "from (inclusive)" if name.endswith("_from") else "to (inclusive)"
        description = f"{f.description or f.name} {bound}"
    else:
        description = (
            f.description or f"{f.kind.value} filter on {', '.join(f.columns)}"
        )
    parameter = _query(name, schema, description)
    if schema["type"] == "array":
        parameter.update(style="form", explode=True)
    return parameter


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }
