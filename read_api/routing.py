"""The app's routes, walked through the routers it includes, and the methods
each path serves.

Commands and queries on one path live in different routers (``POST /audits``
in ``commands.http.audits``, ``GET /audits`` in ``read_api.audits``), so the
``405`` Starlette raises for a method no route serves knows only the first
matching route's methods. :func:`allowed_methods` answers for the whole app,
which is what a ``405``'s ``Allow`` must name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route, compile_path
from starlette.staticfiles import StaticFiles

STATIC_METHODS = frozenset({"GET", "HEAD"})
"""What a mounted static files app serves."""


def routes(
    routers: Sequence[APIRouter], prefix: str = ""
) -> Iterator[tuple[str, BaseRoute]]:
    """Every route of ``routers`` and of the routers they include, with the
    prefix its inclusions add to its path."""
    for router in routers:
        for route in router.routes:
            nested = getattr(route, "original_router", None)
            if isinstance(nested, APIRouter):
                context = getattr(route, "include_context", None)
                added = str(getattr(context, "prefix", "") or "")
                yield from routes([nested], prefix + added)
            else:
                yield prefix, route


def api_routes(routers: Sequence[APIRouter]) -> Iterator[APIRoute]:
    """Every API route of ``routers``, including routers they include."""
    return (r for _, r in routes(routers) if isinstance(r, APIRoute))


def _serves(prefix: str, route: BaseRoute) -> tuple[str, frozenset[str]] | None:
    """The path pattern a route serves and its methods, if it has any."""
    if isinstance(route, Route):
        return prefix + route.path, frozenset(route.methods or ())
    if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
        return f"{prefix}{route.path}/{{path:path}}", STATIC_METHODS
    return None


def allowed_methods(router: APIRouter, path: str) -> list[str]:
    """The methods some route of ``router`` serves at ``path``, sorted."""
    methods: set[str] = set()
    for prefix, route in routes([router]):
        served = _serves(prefix, route)
        if served is not None and compile_path(served[0])[0].match(path):
            methods |= served[1]
    return sorted(methods)
