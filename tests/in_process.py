"""The whole API app in process (no socket, no services): for what it
answers before any service is called (routing, authentication, query and
body checks). Its container is a ``MagicMock`` with the settings the
middleware reads."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from unittest.mock import MagicMock

import httpx
from fastapi import FastAPI

from commands.http.edge import NotAuthenticatedError
from domain.principal import Principal, Role
from read_api.app import create_app

MAX_BODY_BYTES = 1_000_000


class EveryRole:
    """Authenticates every request as a caller holding every tenant role."""

    async def authenticate(self, headers: Any) -> Principal:
        roles = frozenset(r for r in Role if r is not Role.PLATFORM_ADMIN)
        return Principal("acme", str(uuid.UUID(int=7)), roles)


class Nobody:
    """Refuses every request's credentials."""

    async def authenticate(self, headers: Any) -> Principal:
        raise NotAuthenticatedError("no credentials")


def app_in_process(authenticator: Any = None) -> FastAPI:
    """The API over a mock container, with ``authenticator`` (default:
    :class:`EveryRole`)."""
    container = MagicMock()
    container.settings.max_body_bytes = MAX_BODY_BYTES
    container.settings.upload_max_bytes = MAX_BODY_BYTES
    container.services.calendar.cached_zone.return_value = "UTC"
    container.authenticator = authenticator or EveryRole()
    return create_app(container)


def send(app: FastAPI, requests: list[dict[str, Any]]) -> list[httpx.Response]:
    """Each request (``httpx.AsyncClient.request`` arguments) sent to ``app``."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return [await c.request(**request) for request in requests]

    return asyncio.run(run())
