"""The event log's proof over HTTP: the published checkpoint keys (public)
and the export of the caller's tenant's chain (compliance officers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from commands.http.edge import requires
from domain.access import Permission
from domain.principal import Principal
from infra.eventlog.export import export_lines, json_lines, key_line, newest_checkpoint
from infra.postgres import event_log
from infra.postgres.pool import Database
from read_api.exact_query import exact_query, refuse_undeclared
from read_api.schemas.rows import examples

router = APIRouter(tags=["event log"])

Exporter = Annotated[
    Principal, Depends(exact_query(requires(Permission.EVENT_LOG_EXPORT)))
]
Position = Annotated[int, Query(ge=1, le=2**62)]

KEY_EXAMPLE = {
    "key_id": "log-2026",
    "algorithm": "Ed25519",
    "public_key": "MCowBQYDK2VwAyEA3LPOAzm0OwnNwYL9r2JHnrIRasfTJGVMHsW1dGtjSFs=",
    "first_used_at": "2026-01-05T09:00:00.000000Z",
}


class LogKeyPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(KEY_EXAMPLE))

    key_id: str
    algorithm: str = Field(description="Always `Ed25519`")
    public_key: str = Field(description="The raw 32-byte public key, base64")
    first_used_at: str = Field(description="When it first signed (UTC)")


class LogKeysPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"keys": [KEY_EXAMPLE]}))

    keys: list[LogKeyPublic] = Field(
        description="Every key that ever signed a checkpoint, retired ones too"
    )


@router.get(
    "/.well-known/assurehub-log-keys",
    response_model=LogKeysPublic,
    openapi_extra={"x-permission": "public"},
    dependencies=[Depends(refuse_undeclared)],
)
async def log_keys(request: Request) -> LogKeysPublic:
    """The public keys that verify the event log's signed checkpoints (no
    login): what `assurehub verify-log --keys` reads."""
    database: Database = request.app.state.container.database

    def read() -> list[dict[str, Any]]:
        with database.connection() as conn:
            return [key_line(k) for k in event_log.public_keys(conn)]

    found = await run_in_threadpool(read)
    return LogKeysPublic(
        keys=[
            LogKeyPublic(**{k: v for k, v in key.items() if k != "kind"})
            for key in found
        ]
    )


EXPORT_EXAMPLE = "\n".join(
    [
        '{"kind":"log","format":"assurehub-event-log/1","tenant_id":"acme-cert",'
        '"from_position":1,"to_position":2,"previous_hash":"00…00",'
        '"exported_at":"2026-05-01T10:00:00.000000Z"}',
        '{"kind":"key","key_id":"log-2026","algorithm":"Ed25519",'
        '"public_key":"…","first_used_at":"2026-01-05T09:00:00.000000Z"}',
        '{"kind":"event","position":2,"tenant_id":"acme-cert","aggregate_id":"…",'
        '"version":1,"type":"domain.organization:Organization.Registered",'
        '"recorded_at":"2026-04-30T08:00:00.123456Z","payload":"eyJ…",'
        '"meta":{"actor_id":"alice","causation_id":"r1","correlation_id":"r1",'
        '"tenant_id":"acme-cert"},"previous_hash":"…","hash":"…"}',
        '{"kind":"checkpoint","tenant_id":"acme-cert","position":2,"head":"…",'
        '"key_id":"log-2026","signed_at":"2026-04-30T08:01:00.000000Z",'
        '"signature":"…"}',
    ]
)


@router.get(
    "/audit-log/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "JSON Lines: the `log` line, the published keys, the "
            "events with their hashes and the checkpoints that cover them",
            "content": {
                "application/jsonl": {
                    "schema": {"type": "string"},
                    "example": EXPORT_EXAMPLE,
                }
            },
        }
    },
)
async def export_log(
    request: Request,
    principal: Exporter,
    from_position: Position = 1,
    to_position: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**62,
            description="Default: the tenant's newest signed checkpoint, so "
            "that the whole export is covered",
        ),
    ] = None,
) -> StreamingResponse:
    """The caller's tenant's events with `from_position <= position <=
    to_position`, their hashes and the signed checkpoints that cover them,
    as JSON Lines that `assurehub verify-log FILE --keys KEYS` checks offline.
    Only the caller's tenant's events are exported; the chain is per tenant,
    so the export verifies alone."""
    database: Database = request.app.state.container.database
    tenant = principal.tenant_id
    if to_position is None:
        to_position = await run_in_threadpool(newest_checkpoint, database, tenant)
    lines = json_lines(export_lines(database, tenant, from_position, to_position))
    first = await run_in_threadpool(next, lines)  # Postgres down: 503 here

    def body() -> Iterator[bytes]:
        yield first
        yield from lines

    return StreamingResponse(body(), media_type="application/jsonl")
