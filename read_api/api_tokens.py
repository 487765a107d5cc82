"""Query routes of service accounts' API tokens (tenant administrators)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from commands.context import CommandContext
from commands.http.deps import ApiTokenServiceDep
from commands.http.edge import context_for
from commands.identity.ports import ApiTokenRecord
from domain.access import Permission
from read_api.consistency import ALWAYS_CURRENT
from read_api.exact_query import exact_query
from read_api.schemas.identity import ApiTokenPublic

router = APIRouter(prefix="/api-tokens", tags=["API tokens"])

Admin = Annotated[
    CommandContext, Depends(exact_query(context_for(Permission.API_TOKEN_MANAGE)))
]


def _public(record: ApiTokenRecord) -> ApiTokenPublic:
    return ApiTokenPublic(
        id=record.token_id,
        name=record.name,
        prefix=record.prefix,
        roles=list(record.roles),
        scopes=list(record.scopes),
        created_at=record.created_at,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
        last_used_at=record.last_used_at,
    )


@router.get("", response_model=list[ApiTokenPublic], dependencies=[ALWAYS_CURRENT])
def list_tokens(ctx: Admin, svc: ApiTokenServiceDep) -> list[ApiTokenPublic]:
    """The tenant's API tokens, newest first (never the tokens themselves)."""
    return [_public(record) for record in svc.tokens(ctx)]


@router.get("/{token_id}", response_model=ApiTokenPublic, dependencies=[ALWAYS_CURRENT])
def show_token(token_id: UUID, ctx: Admin, svc: ApiTokenServiceDep) -> ApiTokenPublic:
    """One API token: name, roles, scopes, expiry, revocation, last use."""
    return _public(svc.token(ctx, token_id))
