"""Detail answers: one row of a collection, within the caller's scopes, and
the rows that belong to it.

A detail is read through the same :class:`~projections.listing.Listing` as
its collection, so the tenant and the caller's organization and audit scopes
apply exactly as they do to lists: another tenant's id is a 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import NotFoundError
from domain.principal import Principal
from infra.postgres.children import PostgresChildRows
from projections.listing import Condition, Listing, ListQuery, Op
from projections.rows import Row, Table
from read_api.listing import listing_view

MAX_RELATED = 10_000
"""Most rows of a related collection one detail answer carries."""


def _where(listing: Listing, column: str, value: Any, limit: int) -> ListQuery:
    condition = Condition(column, Op.ANY, (column,), (value,))
    return ListQuery((condition,), listing.sort_keys(None), None, limit)


async def one(
    request: Request, principal: Principal, listing: Listing, row_id: UUID, kind: str
) -> Row:
    """The row ``row_id`` of ``listing`` in the caller's scopes.

    Raises:
        NotFoundError: unknown, or outside the caller's tenant or scopes.
    """
    view = listing_view(request)
    page = await run_in_threadpool(
        view.page, principal, listing, _where(listing, "id", row_id, 1)
    )
    if not page.items:
        raise NotFoundError(kind, row_id)
    return page.items[0]


async def related(
    request: Request, principal: Principal, listing: Listing, column: str, value: Any
) -> list[Row]:
    """Every row of ``listing`` whose ``column`` equals ``value`` (scoped)."""
    view = listing_view(request)
    page = await run_in_threadpool(
        view.page, principal, listing, _where(listing, column, value, MAX_RELATED)
    )
    return page.items


async def children(
    request: Request,
    principal: Principal,
    projection: str,
    table: Table,
    parent: Mapping[str, Any],
    order_by: tuple[str, ...],
) -> list[Row]:
    """Rows of a keyless child table (read once the parent was found)."""
    rows = PostgresChildRows(request.app.state.container.database)
    return await run_in_threadpool(
        rows.rows, principal, projection, table, parent, order_by
    )


def tag(response: Response, version: int) -> None:
    """Set the ``ETag`` a command's ``If-Match`` takes."""
    response.headers["ETag"] = f'"{version}"'
