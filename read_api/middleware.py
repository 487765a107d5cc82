"""ASGI middleware: request ids and the request body size limit."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.logs import correlation_id, traceparent
from infra.metrics.instruments import instruments
from infra.trace_context import server_span
from read_api.problems import unexpected

log = logging.getLogger("assurehub.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` (or makes one), exposes it to logs and events,
    and echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _REQUEST_ID.match(given) else str(uuid.uuid4())
        trace = server_span(
            dict(scope["headers"]).get(b"traceparent", b"").decode("latin-1")
        )
        scope.setdefault("state", {})["request_id"] = rid
        scope["state"]["traceparent"] = trace
        token = correlation_id.set(rid)
        trace_token = traceparent.set(trace)
        started = time.perf_counter()
        status = 500

        status_sent = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status = message["status"]
                status_sent = True
                message.setdefault("headers", []).append(
                    (b"x-request-id", rid.encode())
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as e:
            # Handled here, inside the request's context, so the 500 carries
            # X-Request-ID and its log line the correlation id.
            if status_sent:
                raise
            response = unexpected(scope["method"], scope["path"], e)
            await response(scope, receive, send_with_id)
        finally:
            _measure(scope, status, time.perf_counter() - started)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            correlation_id.reset(token)
            traceparent.reset(trace_token)


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _measure(scope: Scope, status: int, seconds: float) -> None:
    """Time the request by its route template; count a command by outcome."""
    route = scope.get("route")
    template = getattr(route, "path", None) or "unmatched"
    metrics = instruments()
    metrics.http_duration.labels(scope["method"], template, str(status)).observe(
        seconds
    )
    if route is not None and scope["method"] not in _READS:
        outcome = (
            "accepted" if status < 400 else "rejected" if status < 500 else "failed"
        )
        metrics.commands.labels(getattr(route, "name", template), outcome).inc()


UPLOAD_PATHS = re.compile(r".*/evidence|/documents/[^/]+/verify")
"""Routes that take file uploads (evidence, a copy of a document to check)
get the larger upload limit."""


class BodyLimitMiddleware:
    """Answers 413 (problem+json) for bodies over ``max_bytes``, whether the
    client declares the length or streams it. The body is read before the app
    runs, so nothing is half-processed when the limit is hit."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = (
            self.upload_max_bytes
            if UPLOAD_PATHS.fullmatch(scope["path"])
            else self.max_bytes
        )
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._reject(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        del chunks  # one copy of the body, not two, while the app runs
        # The raw body, for request fingerprints (idempotency keys): a parsed
        # form no longer has it.
        scope.setdefault("state", {})["raw_body"] = body
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send, limit: int) -> None:
        body: dict[str, Any] = {
            "type": "/problems/payload-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"request body exceeds {limit} bytes",
            "code": "payload-too-large",
        }
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
