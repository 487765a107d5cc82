"""Every error an operation can answer, written into the OpenAPI document.

Routes declare their success answer (and a few errors of their own); the
errors every route shares follow from what the route is, so they are added
here, in one place, once the schema is generated:

- ``401``, ``403`` and ``429`` for every route that needs a caller;
- ``400`` for every query (a parameter it does not take, a bad value), every
  body that cannot be read, and an ``If-Match`` this API did not issue;
  ``412`` for a stale ``If-Match``;
- ``404`` for a route with an id in its path, and for the commands whose body
  names a record they look up (:data:`REFERENCES`);
- ``409`` for every command: the business-rule codes of the aggregates it
  works on (read from the domain's own ``RuleViolationError`` calls, so the
  list cannot drift from the code), and a lost race (``concurrent-write``);
- ``413`` for every command (the body size limit);
- ``503`` for every route that needs Postgres (and, for queries, a read model
  that is behind).

Several reasons for one status are joined in its description. All of them,
and the errors routes declare themselves (``422`` included), are documented
as ``application/problem+json``, which is what ``read_api.problems`` answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

from read_api.permissions import PUBLIC
from read_api.rule_codes import rule_codes

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
    "/me/notification-preferences": {
        "404": "The caller is not a person's account (an API token)"
    },
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
REFERENCES: dict[tuple[str, str], str] = {
    ("post", "/audits"): "The organization or standard template the body names",
    ("post", "/certificates"): "The audit the body names",
    ("post", "/certificates/{certificate_id}/revise"): "The audit the body names",
    ("post", "/audits/{audit_id}/evidence"): "The finding the form names",
}
"""Commands whose body names another record, which they look up (a 404 when
it is not there, like an id in the path)."""
Answer = tuple[str, str]


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}
            }
        },
    }


def _caller_errors(path: str, operation: dict[str, Any]) -> Iterator[Answer]:
    """Who may call: credentials, permission, rate limits."""
    public = operation.get("x-permission") == PUBLIC
    if not public and not path.startswith("/health"):
        yield "401", "No acceptable credentials"
        yield "403", f"The caller lacks `{operation.get('x-permission')}`"
        yield "429", "The token spent its requests of this minute (Retry-After)"
    if path.startswith("/auth/") and public:
        yield (
            "429",
            (
                "Too many attempts, or a lockout after repeated failures "
                "(`auth.locked_out`; Retry-After)"
            ),
        )
    yield from _AUTH_ANSWERS.get(path, {}).items()


def _input_errors(
    path: str, method: str, operation: dict[str, Any]
) -> Iterator[Answer]:
    """What the request carries: query, body, preconditions."""
    headers = {p["name"].lower() for p in operation.get("parameters", [])}
    if method == "get" and not path.startswith("/health"):
        yield (
            "400",
            (
                "A query parameter the operation does not take, or a bad value "
                "(named, with the allowed ones)"
            ),
        )
    if "requestBody" in operation:
        yield "400", "The body cannot be read (not UTF-8, or a malformed form)"
    if "if-match" in headers:
        yield "400", "If-Match is not an ETag this API issued"
        yield "412", "If-Match names a version that is no longer current"
    if method in _COMMANDS:
        yield "413", "The body is larger than the API accepts"


def _outcome_errors(path: str, method: str) -> Iterator[Answer]:
    """What the operation finds: ids, rules, races, dependencies."""
    if "{" in path:
        yield "404", "Unknown id, or not visible to the caller"
    if (method, path) in REFERENCES:
        yield "404", f"{REFERENCES[method, path]} does not exist or is not visible"
    codes = rule_codes(path) if method in _COMMANDS else ()
    if codes:
        listed = ", ".join(f"`{c}`" for c in codes)
        yield "409", f"A business rule refused the command; `code` is one of: {listed}"
    if method in _COMMANDS and not path.startswith("/public/"):
        yield (
            "409",
            "Another change to the same record won the race (`concurrent-write`)",
        )
    if not path.startswith("/health"):
        yield (
            "503",
            (
                "A dependency is unavailable, or the read model has not reached "
                "`min_position` yet (with Retry-After)"
                if method == "get"
                else "A dependency is unavailable (with Retry-After)"
            ),
        )


def _errors(path: str, method: str, operation: dict[str, Any]) -> dict[str, str]:
    """The shared errors of one operation, by status (several reasons for one
    status are joined)."""
    found: dict[str, list[str]] = {}
    for status, reason in (
        *_caller_errors(path, operation),
        *_input_errors(path, method, operation),
        *_outcome_errors(path, method),
    ):
        found.setdefault(status, []).append(reason)
    return {status: "; ".join(reasons) for status, reasons in found.items()}


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
