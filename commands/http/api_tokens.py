"""Routes for service accounts' API tokens (tenant administrators)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from commands.context import CommandContext
from commands.http.deps import ApiTokenServiceDep
from commands.http.edge import (
    ExpectedVersion,
    answer,
    context_for,
)
from commands.http.identity_schemas import (
    ApiTokenCreate,
    ApiTokenIssued,
)
from commands.http.schemas import CommandAccepted
from commands.identity.api_tokens import IssueApiToken
from domain.access import Permission

router = APIRouter(prefix="/api-tokens", tags=["API tokens"])

Admin = Annotated[CommandContext, Depends(context_for(Permission.API_TOKEN_MANAGE))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiTokenIssued)
def issue_token(
    body: ApiTokenCreate, ctx: Admin, svc: ApiTokenServiceDep, response: Response
) -> ApiTokenIssued:
    """Issue an API token for a downstream system. The token is in this answer
    only: it is stored as a digest. Send it as ``Authorization: Bearer``."""
    issued = svc.issue(
        ctx,
        IssueApiToken(
            body.name,
            [r.value for r in body.roles],
            tuple(body.scopes),
            body.expires_in_days,
        ),
    )
    response.headers["Location"] = f"/api-tokens/{issued.id}"
    response.headers["Cache-Control"] = "no-store"
    return ApiTokenIssued(
        id=issued.id,
        token=issued.token,
        version=issued.version,
        position=issued.position,
    )


@router.post("/{token_id}/revoke", response_model=CommandAccepted)
def revoke_token(
    token_id: UUID,
    ctx: Admin,
    svc: ApiTokenServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Revoke the token: its next request is refused."""
    return answer(svc.revoke(ctx, token_id, version), response)
