"""Query parameters of history and trail reads, parsed into a
:class:`~infra.history.query.HistoryQuery`; a bad value is a ``400`` naming
the parameter."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query

from infra.history.catalog import catalog
from infra.history.query import HistoryQuery
from projections.listing import InvalidCursorError, InvalidFilterValueError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_MAX_KEY = 2**63 - 1


class HistoryFormat(StrEnum):
    """How the answer is written."""

    JSON = "json"
    CSV = "csv"
    JSONL = "jsonl"


@dataclass(frozen=True)
class HistoryRequest:
    """A parsed history or trail request."""

    query: HistoryQuery
    format: HistoryFormat


TypeParam = Annotated[
    list[str] | None,
    Query(
        alias="type",
        description="Only these event types (`audit.finding_raised`); repeat "
        "or separate with commas",
    ),
]
FromParam = Annotated[
    str | None,
    Query(description="Only events recorded at or after this time (RFC 3339)"),
]
ToParam = Annotated[
    str | None, Query(description="Only events recorded before this time (RFC 3339)")
]
ActorParam = Annotated[
    str | None, Query(description="Only events caused by this actor id", max_length=200)
]
LimitParam = Annotated[
    str | None,
    Query(description=f"Events per page, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT})"),
]
CursorParam = Annotated[
    str | None,
    Query(description="`next_cursor` of the previous page, with the same filters"),
]
FormatParam = Annotated[
    str | None,
    Query(
        alias="format",
        description="`json` (pages, the default); `csv` or `jsonl` stream every "
        "matching event (no cursor or limit)",
    ),
]


def _choices(
    parameter: str, values: list[str] | None, allowed: tuple[str, ...]
) -> tuple[str, ...]:
    chosen = tuple(
        v.strip() for raw in values or () for v in raw.split(",") if v.strip()
    )
    for value in chosen:
        if value not in allowed:
            raise InvalidFilterValueError(
                parameter,
                f"{parameter} {value!r} is not one of: {', '.join(allowed)}",
                allowed,
            )
    return chosen


def _time(parameter: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidFilterValueError(
            parameter,
            f"{parameter} must be an RFC 3339 time with an offset, like "
            f"2026-03-01T00:00:00Z; got {value!r}",
        )
    return parsed


def _count(parameter: str, value: str, low: int, high: int) -> int:
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise InvalidFilterValueError(
            parameter, f"{parameter} must be a whole number from {low} to {high}"
        )
    return int(value)


def _format(value: str | None) -> HistoryFormat:
    if value is None:
        return HistoryFormat.JSON
    allowed = tuple(HistoryFormat)
    if value not in allowed:
        raise InvalidFilterValueError(
            "format", f"format must be one of: {', '.join(allowed)}", allowed
        )
    return HistoryFormat(value)


def _cursor(value: str | None) -> int:
    if value is None:
        return 0
    if not value.isascii() or not value.isdigit() or not 0 < int(value) < _MAX_KEY:
        raise InvalidCursorError("cursor", "cursor is not one this API issued")
    return int(value)


def parse_history(
    types: list[str] | None,
    recorded_from: str | None,
    recorded_to: str | None,
    actor: str | None,
    limit: str | None,
    cursor: str | None,
    fmt: str | None,
) -> HistoryRequest:
    """The request's filters, page and format.

    Raises:
        InvalidFilterValueError: an unknown type or format, a time without an
            offset, a limit out of range, cursor or limit with an export.
        InvalidCursorError: a cursor this API did not issue.
    """
    kinds = catalog()
    form = _format(fmt)
    exporting = form is not HistoryFormat.JSON
    if exporting and limit is not None:
        raise InvalidFilterValueError(
            "limit", f"format={form} exports every matching event: limit does not apply"
        )
    start = _time("recorded_from", recorded_from)
    end = _time("recorded_to", recorded_to)
    if start is not None and end is not None and end <= start:
        raise InvalidFilterValueError(
            "recorded_to", "recorded_to must be after recorded_from"
        )
    query = HistoryQuery(
        types=_choices("type", types, kinds.types()),
        recorded_from=start,
        recorded_to=end,
        actor=actor,
        after=_cursor(cursor),
        limit=None
        if exporting
        else (DEFAULT_LIMIT if limit is None else _count("limit", limit, 1, MAX_LIMIT)),
    )
    return HistoryRequest(query, form)


async def history_request(
    types: TypeParam = None,
    recorded_from: FromParam = None,
    recorded_to: ToParam = None,
    actor: ActorParam = None,
    limit: LimitParam = None,
    cursor: CursorParam = None,
    fmt: FormatParam = None,
) -> HistoryRequest:
    """Dependency: the history request's parameters, parsed."""
    return parse_history(types, recorded_from, recorded_to, actor, limit, cursor, fmt)


History = Annotated[HistoryRequest, Depends(history_request)]


async def trail_request(
    base: HistoryRequest = Depends(history_request),  # noqa: B008
    aggregate_type: Annotated[
        list[str] | None,
        Query(description="Only events of these aggregate types (`audit`, …)"),
    ] = None,
    aggregate_id: Annotated[
        str | None, Query(description="Only events of this aggregate")
    ] = None,
) -> HistoryRequest:
    """Dependency: a trail request (the history's parameters, plus aggregate
    type and id)."""
    ident = None
    if aggregate_id is not None:
        try:
            ident = UUID(aggregate_id)
        except ValueError:
            raise InvalidFilterValueError(
                "aggregate_id", f"aggregate_id must be a UUID, got {aggregate_id!r}"
            ) from None
    types = _choices("aggregate_type", aggregate_type, catalog().aggregate_types())
    query = replace(base.query, aggregate_types=types, aggregate_id=ident)
    return HistoryRequest(query, base.format)


Trail = Annotated[HistoryRequest, Depends(trail_request)]
