"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from read_api.schemas.rows import examples

router = APIRouter(prefix="/health", tags=["health"])

PUBLIC = {"x-permission": "public"}


class Live(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"status": "ok"}))

    status: str


class Ready(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "status": "degraded",
                "checks": {
                    "postgres": "up",
                    "kafka": "up",
                    "redis": "up",
                    "projections": "halted",
                },
                "halted": {
                    "templates": "record at position 4410 can be neither applied "
                    "nor parked"
                },
            }
        )
    )

    status: str
    checks: dict[str, str]
    halted: dict[str, str]
    """Each halted projection with why it stopped (empty when none is)."""


@router.get("/live", response_model=Live, openapi_extra=PUBLIC)
def live() -> Live:
    """The process is up."""
    return Live(status="ok")


@router.get(
    "/ready",
    response_model=Ready,
    responses={503: {"model": Ready}},
    openapi_extra=PUBLIC,
)
def ready(request: Request) -> JSONResponse:
    """200 while commands and queries can be served (Postgres reachable);
    Kafka or Redis down, or a halted projection, only degrades."""
    readiness = request.app.state.container.health.readiness()
    body = Ready(
        status=readiness.status, checks=readiness.checks, halted=readiness.halted
    )
    return JSONResponse(body.model_dump(), status_code=200 if readiness.ready else 503)
