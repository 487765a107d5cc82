"""Exceptions to RFC 9457 problem responses, in one place.

Every error answer is ``application/problem+json`` with ``type``, ``title``,
``status``, ``detail`` and a stable ``code``; validation problems list each
offending field under ``errors``. Unexpected errors are logged with their
traceback and answered with a bare 500 problem.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from commands.errors import (
    ConcurrentWriteError,
    FileTooLargeError,
    IdempotencyKeyReusedError,
)
from commands.http.edge import (
    InvalidPreconditionError,
    NotAuthenticatedError,
    TooManyRequestsError,
)
from commands.identity.errors import (
    InvalidOneTimeTokenError,
    InvalidOtpError,
    LockedOutError,
    LoginRefusedError,
    RefreshRefusedError,
    WrongPasswordError,
)
from domain.errors import (
    InvalidValueError,
    MfaEnrollmentRequiredError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    UnsupportedMediaTypeError,
    VersionConflictError,
)
from infra.errors import (
    DatabaseContentionError,
    DependencyUnavailableError,
    UnstorableTextError,
)
from infra.metrics.instruments import instruments
from projections.listing import QueryError
from read_api.routing import allowed_methods

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ReadApiError(Exception):
    """Base of errors raised by the query layer."""


class ReadModelBehindError(ReadApiError):
    """The read model has not reached the position the caller asked for."""

    def __init__(self, projection: str, position: int, waited: float) -> None:
        super().__init__(f"{projection} has not reached position {position}")
        self.projection = projection
        self.position = position
        self.waited = waited


class RateLimitedError(ReadApiError):
    """Too many attempts: the caller may try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many attempts; retry in {retry_after} s")
        self.retry_after = retry_after


class CertificateNotVerifiedError(ReadApiError):
    """No certificate has this number and verification code (one error for
    both, so an answer never tells which one was wrong)."""

    def __init__(self) -> None:
        super().__init__("no certificate matches this number and verification code")


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _field_name(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "body"  # its loc is a character offset, not a field
    loc = tuple(error.get("loc", ()))
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or (str(loc[0]) if loc else "body")


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _field_name(dict(e)),
            "in": str(e.get("loc", ("body",))[0]),
            "message": e.get("msg", "invalid"),
            "type": e.get("type", "value_error"),
        }
        for e in exc.errors()
    ]
    names = ", ".join(sorted({e["field"] or e["in"] for e in errors}))
    return problem(
        422, "validation-error", "Invalid request", f"Invalid: {names}", errors=errors
    )


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {
        400: "Bad request",
        404: "Not found",
        405: "Method not allowed",
        413: "Payload too large",
    }
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Every method of the path, whichever router serves it.
        allowed = allowed_methods(request.app.router, request.url.path)
        headers["Allow"] = ", ".join(allowed)
    return problem(
        exc.status_code,
        f"http-{exc.status_code}",
        titles.get(exc.status_code, "HTTP error"),
        str(exc.detail),
        headers=headers,
    )


def _invalid_value(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidValueError)
    error = {"field": exc.field, "message": exc.detail, "type": exc.rule}
    return problem(
        422, "validation-error", "Invalid request", exc.detail, errors=[error]
    )


def _rule(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleViolationError)
    return problem(409, exc.rule, "Rule violated", exc.detail, rule=exc.rule)


def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return problem(404, "not-found", "Not found", str(exc))


def _version_conflict(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VersionConflictError)
    return problem(
        412,
        "version-conflict",
        "Precondition failed",
        str(exc),
        headers={"ETag": f'"{exc.current}"'},
        current_version=exc.current,
    )


def _concurrent_write(_: Request, __: Exception) -> JSONResponse:
    return problem(
        409, "concurrent-write", "Conflict", "another change won the race; retry"
    )


def _forbidden(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PermissionDeniedError)
    if isinstance(exc, MfaEnrollmentRequiredError):
        return problem(
            403,
            "auth.mfa_enrollment_required",
            "Enroll a second factor first",
            f"{exc} — start at POST /me/mfa/totp",
            permission=exc.permission,
        )
    return problem(403, "forbidden", "Forbidden", str(exc), permission=exc.permission)


def _not_authenticated(_: Request, exc: Exception) -> JSONResponse:
    return problem(
        401,
        "not-authenticated",
        "Not authenticated",
        str(exc),
        headers={"WWW-Authenticate": "Bearer"},
    )


def _invalid_if_match(_: Request, exc: Exception) -> JSONResponse:
    return problem(400, "invalid-if-match", "Bad request", str(exc))


def _idempotency_key_reused(_: Request, exc: Exception) -> JSONResponse:
    error = {"field": "Idempotency-Key", "in": "header", "message": str(exc)}
    return problem(
        422, "idempotency-key-reused", "Invalid request", str(exc), errors=[error]
    )


def _unsupported_media_type(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnsupportedMediaTypeError)
    return problem(415, exc.rule, "Unsupported media type", exc.detail)


def _file_too_large(_: Request, exc: Exception) -> JSONResponse:
    return problem(413, "payload-too-large", "Payload too large", str(exc))


def _bad_query(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QueryError)
    error = {"field": exc.parameter, "in": "query", "message": exc.detail}
    extra: dict[str, Any] = {"allowed": list(exc.allowed)} if exc.allowed else {}
    return problem(400, exc.code, "Bad request", exc.detail, errors=[error], **extra)


def _behind(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReadModelBehindError)
    return problem(
        503,
        "read-model-behind",
        "Read model behind",
        f"the {exc.projection} read model has not reached position {exc.position}"
        f" within {exc.waited:g} s; retry",
        headers={"Retry-After": "1"},
        projection=exc.projection,
        min_position=exc.position,
    )


def _rate_limited(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitedError | TooManyRequestsError | LockedOutError)
    wait = (
        exc.retry_after_seconds if isinstance(exc, LockedOutError) else exc.retry_after
    )
    code = "auth.locked_out" if isinstance(exc, LockedOutError) else "rate-limited"
    instruments().rate_limited.labels(type(exc).__name__).inc()
    return problem(
        429,
        code,
        "Too many requests",
        str(exc),
        headers={"Retry-After": str(wait), "Cache-Control": "no-store"},
        retry_after=wait,
    )


def _auth_refusal(
    status: int, code: str, title: str
) -> Callable[[Request, Exception], JSONResponse]:
    def handle(_: Request, exc: Exception) -> JSONResponse:
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="assurehub"'
        return problem(status, code, title, str(exc), headers=headers)

    return handle


def _not_verified(_: Request, exc: Exception) -> JSONResponse:
    return problem(
        404,
        "certificate-not-verified",
        "Not found",
        str(exc),
        headers={"Cache-Control": "no-store"},
    )


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DependencyUnavailableError)
    log.error(
        "dependency unavailable",
        extra={
            "dependency": exc.dependency,
            "error": exc.detail,
            "method": request.method,
            "path": request.url.path,
        },
    )
    return problem(
        503,
        "service-unavailable",
        "Service unavailable",
        f"{exc.dependency} is unavailable; retry later",
        headers={"Retry-After": "5"},
    )


def _contended(request: Request, exc: Exception) -> JSONResponse:
    """Postgres aborted the request's transaction to end a deadlock or a
    serialization conflict: nothing was written; the same request again
    shortly will most likely succeed."""
    assert isinstance(exc, DatabaseContentionError)
    log.warning(
        "request aborted by database contention",
        extra={
            "method": request.method,
            "path": request.url.path,
            "error": exc.detail,
        },
    )
    return problem(
        503,
        "database-contention",
        "Service unavailable",
        "the request collided with concurrent work and was not applied; retry",
        headers={"Retry-After": "1"},
    )


def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    """Text the edge let through that Postgres cannot hold: the caller's
    input is at fault (422), and the edge's rules missed it (logged)."""
    log.warning(
        "text postgres cannot hold reached the database",
        extra={"method": request.method, "path": request.url.path, "error": str(exc)},
    )
    return problem(
        422,
        "unstorable-text",
        "Invalid request",
        "the request holds text that cannot be stored (a NUL character or an "
        "unpaired surrogate)",
    )


def unexpected(method: str, path: str, exc: Exception) -> JSONResponse:
    """The 500 answer to an exception no handler maps (logged with its
    traceback; the client gets no detail)."""
    log.error("unhandled error", exc_info=exc, extra={"method": method, "path": path})
    return problem(
        500, "internal-error", "Internal error", "an unexpected error occurred"
    )


_HANDLERS: dict[type[Exception], Callable[[Request, Exception], JSONResponse]] = {
    RequestValidationError: _validation,
    StarletteHTTPException: _http,
    InvalidValueError: _invalid_value,
    RuleViolationError: _rule,
    NotFoundError: _not_found,
    VersionConflictError: _version_conflict,
    ConcurrentWriteError: _concurrent_write,
    PermissionDeniedError: _forbidden,
    NotAuthenticatedError: _not_authenticated,
    InvalidPreconditionError: _invalid_if_match,
    QueryError: _bad_query,
    UnsupportedMediaTypeError: _unsupported_media_type,
    FileTooLargeError: _file_too_large,
    IdempotencyKeyReusedError: _idempotency_key_reused,
    ReadModelBehindError: _behind,
    RateLimitedError: _rate_limited,
    TooManyRequestsError: _rate_limited,
    LockedOutError: _rate_limited,
    LoginRefusedError: _auth_refusal(401, "auth.login_refused", "Login refused"),
    RefreshRefusedError: _auth_refusal(401, "auth.refresh_refused", "Refresh refused"),
    InvalidOneTimeTokenError: _auth_refusal(
        400, "auth.invalid_token", "Invalid or expired link"
    ),
    InvalidOtpError: _auth_refusal(400, "auth.invalid_otp", "Invalid code"),
    WrongPasswordError: _auth_refusal(400, "auth.wrong_password", "Wrong password"),
    CertificateNotVerifiedError: _not_verified,
    DependencyUnavailableError: _unavailable,
    DatabaseContentionError: _contended,
    UnstorableTextError: _unstorable,
}


def install_problem_handlers(app: FastAPI) -> None:
    """Map every exception type the app knows to its problem response."""
    for exc_type, handler in _HANDLERS.items():
        app.add_exception_handler(exc_type, handler)


def problem_for(request: Request, exc: Exception) -> JSONResponse:
    """The problem response the app's handlers make of ``exc`` (the 500 if
    none maps it), for errors raised outside a route (middleware)."""
    for kind in type(exc).__mro__:
        handler = _HANDLERS.get(kind)
        if handler is not None:
            return handler(request, exc)
    return unexpected(request.method, request.url.path, exc)
