"""Read-your-writes: ``min_position`` on every query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidValueError
from infra.projection.progress_watcher import ProgressWatcher
from read_api.problems import ReadModelBehindError

if TYPE_CHECKING:
    from infra.bootstrap import Container

MAX_POSITION = 2**63 - 1


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


ALWAYS_CURRENT = Depends(min_position)
"""``dependencies=[ALWAYS_CURRENT]`` on a query answered from the source of
truth (the event store, the identity directory) rather than a read model: it
takes ``min_position`` like every query, and has always reached it."""


async def wait_for_projection(
    request: Request, projection: str, position: int | None
) -> None:
    """Wait (bounded) until ``projection`` reached ``position``, else 503.

    The wait is on the app's one
    :class:`~infra.projection.progress_watcher.ProgressWatcher`
    (one progress query per tick for every waiting request, none per request);
    a waiting request holds no thread.
    """
    if position is None:
        return
    container: Container = request.app.state.container
    watcher: ProgressWatcher = request.app.state.progress_watcher
    # Positions come from command answers, so one past the newest event was
    # never handed out: the read model will never reach it. Up to what the
    # relay published, every position is a stored event: no need to ask.
    if position > watcher.relayed and position > await run_in_threadpool(
        container.event_store.head
    ):
        raise InvalidValueError(
            "min_position", f"min_position {position} is beyond the newest event"
        )
    timeout = container.settings.read_wait_seconds
    if not await watcher.wait(projection, position, timeout):
        raise ReadModelBehindError(projection, position, timeout)
