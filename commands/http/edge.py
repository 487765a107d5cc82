"""What every HTTP route shares: the caller, the request id, permissions and
the version a command expects (``ExpectedVersion``, from ``If-Match``).

The Principal is built here, at the edge, by the
:class:`~commands.identity.ports.Authenticator` the app factory installs on
``app.state``; nothing behind the edge looks at HTTP.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from commands.context import Accepted, CommandContext
from commands.errors import CommandError
from commands.http.deps import command_services
from commands.http.schemas import CommandAccepted
from commands.identity.ports import Authenticator
from commands.ports import Idempotency
from domain.access import Permission, authorize
from domain.principal import Principal
from domain.tenant_settings import today_in


class NotAuthenticatedError(CommandError):
    """The request carries no acceptable credentials (401)."""


class TooManyRequestsError(CommandError):
    """The caller's token spent its request budget (429 with Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry in {retry_after} s")
        self.retry_after = retry_after


class InvalidPreconditionError(CommandError, ValueError):
    """An ``If-Match`` header that is not an ETag this API issued (400)."""


async def current_principal(request: Request) -> Principal:
    """The caller of this request (built once per request)."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.authenticate(request.headers)
    request.state.principal = principal
    return principal


async def request_id(request: Request) -> str:
    """The request's correlation id (set by the app's middleware)."""
    return str(getattr(request.state, "request_id", ""))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retrying with the same key and request returns the first "
        "answer without writing twice (keys kept at least 24 h); the same key "
        "with another request is a 422",
    ),
]
RequestId = Annotated[str, Depends(request_id)]


def traceparent_of(request: Request) -> str:
    """The request's own W3C trace context (set by the edge's middleware)."""
    return str(getattr(request.state, "traceparent", ""))


_ETAG = re.compile(r'"([0-9]{1,10})"|([0-9]{1,10})')


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(description='The ETag you read (e.g. "3"); stale → 412'),
    ] = None,
) -> int | None:
    """The aggregate version an ``If-Match`` header names (``"3"``), if any.

    Raises:
        InvalidPreconditionError: not an ETag this API issues (400); ``*`` and
            no header both mean "any version".
    """
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.fullmatch(if_match.strip())
    version = int(match[1] or match[2]) if match else 0
    if not 0 < version < 2**31:
        raise InvalidPreconditionError(
            f"If-Match must be an ETag this API issued, like '\"3\"', got {if_match!r}"
        )
    return version


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
"""The version a command expects its aggregate at (``If-Match``), if any."""


async def tenant_today(
    request: Request, tenant_id: str, now: datetime | None = None
) -> date:
    """Today (or the day of ``now``) in the tenant's time zone (read in a
    worker thread on a miss)."""
    calendar = command_services(request).calendar
    zone = calendar.cached_zone(tenant_id)
    if zone is None:
        zone = await run_in_threadpool(calendar.time_zone, tenant_id)
    return today_in(zone, now)


def requires(
    permission: Permission,
) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """Dependency declaring and checking the permission a route needs."""

    async def check(principal: CurrentPrincipal) -> Principal:
        authorize(principal, permission)
        return principal

    check.required_permission = permission  # type: ignore[attr-defined]
    return check


def context_for(
    permission: Permission, *, idempotent: bool = True
) -> Callable[..., Coroutine[Any, Any, CommandContext]]:
    """Dependency: the command's context, once the caller holds ``permission``.

    ``idempotent=False`` for commands on the caller's own credentials and
    session (``/me``, logout): their requests carry secrets that must not be
    fingerprinted into the idempotency table, and replaying another request's
    answer there would be wrong, so they take no ``Idempotency-Key``.
    """
    check = requires(permission)
    if not idempotent:
        return _plain_context(permission, check)

    # A default-value dependency: the annotation form would name the local
    # ``check``, which FastAPI cannot resolve from postponed annotations.
    async def build(
        request: Request,
        rid: RequestId,
        idempotency_key: IdempotencyKey = None,
        principal: Principal = Depends(check),  # noqa: B008
    ) -> CommandContext:
        idempotency = None
        if idempotency_key is not None:
            body = getattr(request.state, "raw_body", None)
            if body is None:
                body = await request.body()
            parts = [request.method, request.url.path, principal.actor_id]
            digest = hashlib.sha256(
                b"\n".join([*(p.encode() for p in parts), body])
            ).hexdigest()
            idempotency = Idempotency(principal.tenant_id, idempotency_key, digest)
        return CommandContext(
            principal=principal,
            correlation_id=rid,
            today=await tenant_today(request, principal.tenant_id),
            idempotency=idempotency,
            traceparent=traceparent_of(request),
        )

    build.required_permission = permission  # type: ignore[attr-defined]
    return build


def _plain_context(
    permission: Permission, check: Callable[[Principal], Coroutine[Any, Any, Principal]]
) -> Callable[..., Coroutine[Any, Any, CommandContext]]:
    async def build(
        request: Request,
        rid: RequestId,
        principal: Principal = Depends(check),  # noqa: B008
    ) -> CommandContext:
        return CommandContext(
            principal=principal,
            correlation_id=rid,
            today=await tenant_today(request, principal.tenant_id),
            traceparent=traceparent_of(request),
        )

    build.required_permission = permission  # type: ignore[attr-defined]
    return build


def answer(
    accepted: Accepted, response: Response, *, location: str | None = None
) -> CommandAccepted:
    """The shared command answer: body, ``ETag`` and, for creations, ``Location``."""
    response.headers["ETag"] = f'"{accepted.version}"'
    if location is not None:
        response.headers["Location"] = location
    return CommandAccepted(
        id=accepted.id, version=accepted.version, position=accepted.position
    )
