"""Every error an operation can answer, written into the OpenAPI document.

Routes declare their success answer (and a few errors of their own); the
errors every route shares follow from what the route is, so they are added
here, in one place, once the schema is generated:

- ``401`` and ``403`` for every route that needs a caller (not public ones);
- ``404`` for a route with an id in its path;
- ``400`` and ``412`` for a route that takes ``If-Match``;
- ``409`` for every command, listing the business-rule codes of the
  aggregates it works on (read from the domain's own ``RuleViolationError``
  calls, so the list cannot drift from the code);
- ``503`` for every route that needs Postgres (and, for queries, a read model
  that is behind).

All of them, and the errors routes declare themselves (``422`` included),
are documented as ``application/problem+json``, which is what
``read_api.problems`` answers.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import FastAPI

from read_api.permissions import PUBLIC

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}

RULE_MODULES: dict[str, tuple[str, ...]] = {
    "/organizations": ("organization",),
    "/standard-templates": ("standard_template",),
    "/document-templates": ("document_template",),
    "/audits/{audit_id}/evidence": ("evidence",),
    "/audits/{audit_id}/findings": ("audit_findings", "audit_state"),
    "/audits": (
        "audit",
        "audit_state",
        "audit_planning",
        "audit_review",
        "audit_findings",
        "audit_prerequisites",
    ),
    "/certificates": ("certificate", "certification"),
}
"""Path prefix → the domain modules whose rules its commands enforce."""

_RULE = re.compile(r'RuleViolationError\(\s*"([a-z_]+\.[a-z_]+)"')
_COMMANDS = {"post", "patch", "put", "delete"}


@cache
def rule_codes(path: str) -> tuple[str, ...]:
    """The business-rule codes a command under ``path`` can answer with."""
    prefixes = [p for p in RULE_MODULES if path.startswith(p)]
    if not prefixes:
        return ()
    modules = RULE_MODULES[max(prefixes, key=len)]
    codes: set[str] = set()
    for name in modules:
        source = inspect.getsource(importlib.import_module(f"domain.{name}"))
        codes.update(_RULE.findall(source))
    return tuple(sorted(codes))


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}
            }
        },
    }


def _errors(path: str, method: str, operation: dict[str, Any]) -> dict[str, str]:
    """The shared errors of one operation, by status."""
    public = operation.get("x-permission") == PUBLIC
    headers = {p["name"].lower() for p in operation.get("parameters", [])}
    errors: dict[str, str] = {}
    if not public and not path.startswith("/health"):
        errors["401"] = "No acceptable credentials"
        errors["403"] = f"The caller lacks `{operation.get('x-permission')}`"
    if "{" in path:
        errors["404"] = "Unknown id, or not visible to the caller"
    if "if-match" in headers:
        errors["400"] = "If-Match is not an ETag this API issued"
        errors["412"] = "If-Match names a version that is no longer current"
    codes = rule_codes(path) if method in _COMMANDS else ()
    if codes:
        listed = ", ".join(f"`{c}`" for c in codes)
        errors["409"] = (
            f"A business rule refused the command; `code` is one of: {listed}"
        )
    if not path.startswith("/health"):
        errors["503"] = (
            "A dependency is unavailable, or the read model has not reached "
            "`min_position` yet (with Retry-After)"
            if method == "get"
            else "A dependency is unavailable (with Retry-After)"
        )
    return errors


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` list every error of every operation."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
            PROBLEM_SCHEMA
        )
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status, description in _errors(path, method, operation).items():
                    responses.setdefault(status, _problem(description))
                for status, response in responses.items():
                    if status.startswith(("4", "5")):
                        content = _problem("")["content"]
                        response["content"] = content
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
