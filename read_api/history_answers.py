"""Answers of history reads: a JSON page, or every matching event streamed
as CSV or JSON Lines (read a batch at a time on a worker thread)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator
from typing import Any, TypeVar

import anyio
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from domain.access import Permission, is_allowed
from domain.principal import Principal
from infra.history.encoding import Entry, json_page
from infra.history.reader import Page, PostgresHistory, Viewer
from read_api.history_query import HistoryFormat, HistoryRequest
from read_api.listing import CsvResponse
from read_api.schemas.history import HistoryEntry

Batches = Generator[list[Entry], None, None]
Lines = Generator[bytes, None, None]

CSV_COLUMNS = tuple(HistoryEntry.model_fields)
"""An entry's fields; ``actor``, ``data`` and ``redacted`` as their JSON."""
JSONL = "application/x-ndjson"
EXPORTS: dict[int | str, dict[str, Any]] = {
    "200": {
        "description": "A page of events (JSON); with `format=csv` or "
        "`format=jsonl`, every matching event streamed",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            JSONL: {"schema": {"type": "string"}},
        },
    }
}


def history_of(request: Request) -> PostgresHistory:
    """The app's history reader."""
    history: PostgresHistory = request.app.state.container.history
    return history


def viewer(principal: Principal) -> Viewer:
    """What ``principal`` may see of other people in a history."""
    return Viewer(
        principal.actor_id, is_allowed(principal, Permission.PERSONAL_DATA_READ)
    )


def page_answer(page: Page) -> Response:
    """A JSON page; its cursor is the key of its last entry."""
    cursor = None if page.next_after is None else str(page.next_after)
    return Response(json_page(page.entries, cursor), media_type="application/json")


async def answer(
    parsed: HistoryRequest,
    read_page: Callable[[], Page],
    read_all: Callable[[], Batches],
    read_lines: Callable[[], Lines],
    name: str,
) -> Response:
    """The answer ``parsed.format`` asks for: a page, every entry as CSV
    (``read_all``) or as JSON Lines (``read_lines``). An export's first batch
    is read before the response starts, so a failing database is still a
    problem."""
    if parsed.format is HistoryFormat.JSON:
        return page_answer(await run_in_threadpool(read_page))
    if parsed.format is HistoryFormat.CSV:
        batches = read_all()
        first = await _first(batches)
        return CsvResponse(CSV_COLUMNS, first, batches, f"{name}.csv")
    lines = read_lines()
    return JsonLinesResponse(await _first(lines), lines, f"{name}.jsonl")


_B = TypeVar("_B")


async def _first(batches: Generator[_B, None, None]) -> _B | None:
    try:
        return await run_in_threadpool(next, batches, None)
    except BaseException:
        await run_in_threadpool(batches.close)
        raise


class JsonLinesResponse(StreamingResponse):
    """JSON Lines streamed from ``lines`` (a batch of lines at a time), which
    it closes however the response ends."""

    media_type = JSONL

    def __init__(self, first: bytes | None, lines: Lines, filename: str) -> None:
        super().__init__(
            self._lines(first, lines),
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
        self._batches = lines

    @staticmethod
    async def _lines(first: bytes | None, lines: Lines) -> AsyncIterator[bytes]:
        batch = first
        while batch is not None:
            yield batch
            batch = await run_in_threadpool(next, lines, None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._batches.close)
