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


HALTED = "halted: see `assurehub projections status` for the reason"


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
                "halted": {"templates": HALTED},
            }
        )
    )

    status: str
    checks: dict[str, str]
    halted: dict[str, str]
    """Each halted projection (empty when none is). The reason, which names
    records and may quote their values, is for operators only: ``assurehub
    projections status`` shows it; this public answer does not."""


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
        status=readiness.status,
        checks=readiness.checks,
        halted={name: HALTED for name in readiness.halted},
    )
    return JSONResponse(body.model_dump(), status_code=200 if readiness.ready else 503)
