"""Who looked: reads of the past by staff are recorded before they are
answered.

Recorded are the routes that declare ``x-access-recorded`` (histories, the
trail, document and evidence downloads; the value names what they read) and
any ``GET`` that asks for a past state (``as_of`` or ``as_of_version``), on
whatever route takes them. Each successful (``2xx``) answer to a member of
staff (not a client user, not a processor) is held until an
:class:`~domain.access_record.AccessRecord` naming the caller, route, path,
query, thing read and address is appended to the event store; if that
fails, the caller gets the ``503`` problem instead of the answer, so no read
goes unrecorded. Cost: one event appended (one insert under the store's
table lock, ~1-3 ms) per recorded request, a page or an export alike.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commands.access_records import RecordRead
from domain.principal import Principal
from read_api.problems import problem_for

log = logging.getLogger("assurehub.access")

RECORDED = "x-access-recorded"
AS_OF_PARAMETERS = frozenset({"as_of", "as_of_version"})


class ReadRecorder(Protocol):
    """What records a read (:class:`~commands.access_records.AccessRecordService`)."""

    def record_read(
        self, principal: Principal, correlation_id: str, cmd: RecordRead
    ) -> int: ...


def recorded(kind: str) -> dict[str, Any]:
    """``openapi_extra`` of a route whose reads by staff are recorded."""
    return {RECORDED: kind}


def _resource(route: APIRoute, path_params: dict[str, Any]) -> tuple[str, str] | None:
    """What the request read: the route's declared kind and its last id."""
    ids = [(k, str(v)) for k, v in path_params.items() if k.endswith("_id")]
    declared = (route.openapi_extra or {}).get(RECORDED)
    if not ids:
        return None
    name, value = ids[-1]
    kind = declared if isinstance(declared, str) and declared != "trail" else name[:-3]
    return kind, value


def read_to_record(scope: Scope) -> RecordRead | None:
    """The read a request makes that must be recorded, if it is one."""
    route = scope.get("route")
    if scope.get("method") != "GET" or not isinstance(route, APIRoute):
        return None
    query = scope.get("query_string", b"").decode("latin-1")
    names = {part.split("=", 1)[0] for part in query.split("&") if part}
    if RECORDED not in (route.openapi_extra or {}) and not names & AS_OF_PARAMETERS:
        return None
    client = scope.get("client")
    return RecordRead(
        route=f"GET {route.path}",
        path=str(scope.get("path", "")),
        query=query,
        resource=_resource(route, dict(scope.get("path_params") or {})),
        address=str(client[0]) if client else None,
    )


class AccessRecordingMiddleware:
    """Holds each recorded read's answer until the read is recorded."""

    def __init__(self, app: ASGIApp, service: ReadRecorder) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        refused = False

        async def send_recorded(message: Message) -> None:
            nonlocal refused
            if refused:
                return
            if (
                message["type"] == "http.response.start"
                and 200 <= message["status"] < 300
            ):
                failure = await self._record(scope)
                if failure is not None:
                    refused = True
                    await failure(scope, receive, send)
                    return
            await send(message)

        await self.app(scope, receive, send_recorded)

    async def _record(self, scope: Scope) -> Any:
        """Record the read if it is one; a problem response if that failed."""
        principal = scope.get("state", {}).get("principal")
        if not isinstance(principal, Principal) or principal.is_client:
            return None
        read = read_to_record(scope)
        if read is None:
            return None
        rid = str(scope.get("state", {}).get("request_id", ""))
        try:
            await run_in_threadpool(self.service.record_read, principal, rid, read)
        except Exception as e:  # the answer is withheld: it could not be recorded
            log.warning(
                "read not recorded; answer withheld",
                extra={"route": read.route, "path": read.path, "error": repr(e)},
            )
            return problem_for(Request(scope), e)
        return None
