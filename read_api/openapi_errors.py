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
    "/tenant/settings": ("tenant_settings",),
    "/users": (
        "account",
        "account_values",
        "commands.identity.accounts",
        "commands.identity.account_writer",
    ),
    "/platform/tenants": (
        "tenant",
        "account",
        "account_values",
        "commands.identity.tenants",
        "commands.identity.account_writer",
    ),
    "/api-tokens": ("api_token",),
    "/me": ("account", "commands.identity.mfa"),
    "/auth/invitations": ("account",),
}
"""Path prefix → the modules (``domain.`` unless dotted) whose rules its
commands enforce."""

_RULE = re.compile(r'(?:RuleViolationError|_refuse)\(\s*"([a-z_]+\.[a-z_]+)"')
_AUTH_ANSWERS: dict[str, dict[str, str]] = {
    "/auth/login": {
        "401": "Refused: one answer for any wrong tenant, e-mail or "
        "password (`auth.login_refused`)"
    },
    "/auth/login/mfa": {
        "400": "The code is not valid (`auth.invalid_otp`)",
        "401": "The MFA token is unknown, used or expired (`auth.login_refused`)",
    },
    "/auth/refresh": {
        "401": "The refresh token is unknown, used (the session is then ended), "
        "revoked or expired (`auth.refresh_refused`)"
    },
    "/auth/invitations/accept": {
        "400": "The token is invalid, used or expired (`auth.invalid_token`)"
    },
    "/auth/password-resets/confirm": {
        "400": "The token is invalid, used or expired (`auth.invalid_token`)"
    },
    "/auth/logout": {"404": "The caller has no login session (an API token)"},
    "/me": {"404": "The caller is not a person's account (an API token)"},
    "/me/password": {
        "400": "The current password is wrong (`auth.wrong_password`)",
        "404": "The caller is not a person's account (an API token)",
    },
    "/me/mfa/totp": {"404": "The caller is not a person's account (an API token)"},
    "/me/mfa/totp/confirm": {
        "400": "The code is not valid (`auth.invalid_otp`)",
        "404": "The caller is not a person's account (an API token)",
    },
    "/me/mfa/recovery-codes": {
        "400": "The code is not valid (`auth.invalid_otp`)",
        "404": "The caller is not a person's account (an API token)",
    },
}
"""Answers of the identity routes beyond the shared ones."""
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
        module = name if "." in name else f"domain.{name}"
        source = inspect.getsource(importlib.import_module(module))
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
        errors["429"] = "The token spent its requests of this minute (Retry-After)"
    if path.startswith("/auth/") and public:
        errors["429"] = (
            "Too many attempts, or a lockout after repeated failures "
            "(`auth.locked_out`; Retry-After)"
        )
    errors.update(_AUTH_ANSWERS.get(path, {}))
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


SECURITY_SCHEMES: dict[str, Any] = {
    "accessToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The access token `POST /auth/login` (or `/auth/refresh`) "
        "returned; valid while its login session is.",
    },
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A service account's API token (`ah_live_...`), "
        "limited to its roles and scopes.",
    },
}


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` list every error of every operation, and the
    security schemes each protected operation accepts."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if operation.get("x-permission") != PUBLIC and not path.startswith(
                    "/health"
                ):
                    operation["security"] = [{"accessToken": []}, {"apiToken": []}]
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
