"""Every route declares who may call it.

Routes declare their permission through a dependency made by
:func:`commands.http.edge.requires` or :func:`commands.http.edge.context_for`;
public routes say so with ``openapi_extra={"x-permission": "public"}``. This
module finds each route's permission and writes it into the OpenAPI document
as ``x-permission``, and lists routes that declare nothing (a test fails on
any).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant

from read_api.routing import api_routes

PUBLIC = "public"


def required_permission(dependant: Dependant) -> str | None:
    """The permission a route's dependencies check, if any."""
    for dependency in dependant.dependencies:
        permission = getattr(dependency.call, "required_permission", None)
        if permission is not None:
            return str(permission.value)
        found = required_permission(dependency)
        if found is not None:
            return found
    return None


def declare_permissions(routers: Sequence[APIRouter]) -> list[str]:
    """Write each route's permission into its OpenAPI operation; return the
    routes that declare none."""
    undeclared = []
    for route in api_routes(routers):
        extra = dict(route.openapi_extra or {})
        permission = required_permission(route.dependant) or extra.get("x-permission")
        if permission is None:
            undeclared.append(f"{sorted(route.methods or ())} {route.path}")
            continue
        extra["x-permission"] = permission
        route.openapi_extra = extra
    return undeclared
