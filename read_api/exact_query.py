"""Query routes without filters take exactly the query parameters they
declare.

Lists refuse what they do not know (``read_api.listing``); a detail, the
caller's account or the dashboard would otherwise ignore it, and a caller
asking for something the route does not do (``GET /audits/{id}?as_of=…``)
would take today's answer for the one it asked for. Wrapping a route's
caller dependency in :func:`exact_query` makes any undeclared parameter a
``400`` problem naming the allowed ones, checked once the caller is
authenticated and authorized, as lists do.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from projections.listing import UnknownFilterError

T = TypeVar("T")


def _query_names(dependant: Dependant) -> Iterator[str]:
    for field in dependant.query_params:
        yield field.alias
    for dependency in dependant.dependencies:
        yield from _query_names(dependency)


def declared_query(route: APIRoute) -> tuple[str, ...]:
    """The query parameters ``route`` and its dependencies declare, sorted."""
    return tuple(sorted(set(_query_names(route.dependant))))


def refuse_undeclared(request: Request) -> None:
    """Raise for the first query parameter the request's route does not take.

    Raises:
        UnknownFilterError: naming the parameter and the allowed ones.
    """
    route = request.scope.get("route")
    allowed = declared_query(route) if isinstance(route, APIRoute) else ()
    for name in request.query_params:
        if name not in allowed:
            raise UnknownFilterError(
                name,
                f"unknown query parameter {name!r}; allowed: {', '.join(allowed)}",
                allowed,
            )


def exact_query(
    dependency: Callable[..., Coroutine[Any, Any, T]],
) -> Callable[..., Coroutine[Any, Any, T]]:
    """``dependency`` (the route's caller), then :func:`refuse_undeclared`."""

    async def check(request: Request, value: Any = Depends(dependency)) -> T:  # noqa: B008
        refuse_undeclared(request)
        result: T = value
        return result

    return check
