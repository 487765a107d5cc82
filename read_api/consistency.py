"""Read-your-writes: ``min_position`` on every query."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query, Request

from infra.bootstrap import Container
from read_api.problems import ReadModelBehindError


def min_position(
    query_value: Annotated[
        int | None,
        Query(
            alias="min_position",
            ge=1,
            description="Answer only once the read model has reached this position "
            "(the `position` a command returned); 503 read-model-behind if it "
            "does not within the bounded wait",
        ),
    ] = None,
    header_value: Annotated[
        int | None,
        Header(alias="X-Min-Position", ge=1, description="Same as min_position"),
    ] = None,
) -> int | None:
    """The position the caller wants the answer to reflect, if any."""
    values = [v for v in (query_value, header_value) if v is not None]
    return max(values) if values else None


def wait_for_projection(
    request: Request, projection: str, position: int | None
) -> None:
    """Block (bounded) until ``projection`` reached ``position``, else 503."""
    if position is None:
        return
    container: Container = request.app.state.container
    timeout = container.settings.read_wait_seconds
    if not container.progress.wait_for(projection, position, timeout):
        raise ReadModelBehindError(projection, position, timeout)
