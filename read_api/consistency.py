"""Read-your-writes: ``min_position`` on every query."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import Header, Query, Request
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidValueError
from infra.bootstrap import Container
from read_api.problems import ReadModelBehindError

MAX_POSITION = 2**63 - 1
_FIRST_PAUSE = 0.002
_MAX_PAUSE = 0.02
"""Longest pause between checks: bounds the added read latency."""


async def min_position(
    query_value: Annotated[
        int | None,
        Query(
            alias="min_position",
            ge=1,
            le=MAX_POSITION,
            description="Answer only once the read model has reached this position "
            "(the `position` a command returned); 503 read-model-behind if it "
            "does not within the bounded wait",
        ),
    ] = None,
    header_value: Annotated[
        int | None,
        Header(
            alias="X-Min-Position",
            ge=1,
            le=MAX_POSITION,
            description="Same as min_position",
        ),
    ] = None,
) -> int | None:
    """The position the caller wants the answer to reflect, if any."""
    values = [v for v in (query_value, header_value) if v is not None]
    return max(values) if values else None


async def wait_for_projection(
    request: Request, projection: str, position: int | None
) -> None:
    """Wait (bounded) until ``projection`` reached ``position``, else 503.

    Each check runs on a worker thread; between checks the request only
    sleeps, so waiting readers hold no thread that other requests need.
    """
    if position is None:
        return
    container: Container = request.app.state.container
    if position > await run_in_threadpool(container.event_store.head):
        # Positions come from command answers, so one past the newest event
        # was never handed out: the read model will never reach it.
        raise InvalidValueError(
            "min_position", f"min_position {position} is beyond the newest event"
        )
    timeout = container.settings.read_wait_seconds
    deadline = time.monotonic() + timeout
    pause = _FIRST_PAUSE
    while not await run_in_threadpool(
        container.progress.has_reached, projection, position
    ):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReadModelBehindError(projection, position, timeout)
        await asyncio.sleep(min(pause, remaining))
        pause = min(pause * 2, _MAX_PAUSE)
