"""Query routes for the tenant's users (their accounts)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python

from commands.http.edge import requires
from domain.access import Permission
from domain.principal import Principal
from projections.accounts import AccountsProjection
from projections.collections import USERS
from read_api.consistency import min_position, wait_for_projection
from read_api.exact_query import exact_query
from read_api.listing import list_response, listing_openapi
from read_api.resources import one, tag
from read_api.schemas.users import UserPage, UserPublic

router = APIRouter(prefix="/users", tags=["users"])

PROJECTION = AccountsProjection.name

Reader = Annotated[Principal, Depends(requires(Permission.USER_READ))]
DetailReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.USER_READ)))
]
MinPosition = Annotated[int | None, Depends(min_position)]
DETAIL: dict[int | str, dict[str, Any]] = {
    "200": {"description": "The account, with its ETag (the account version)"}
}


@router.get("", response_model=UserPage, openapi_extra=listing_openapi(USERS))
async def list_users(
    request: Request, principal: Reader, position: MinPosition
) -> Response:
    """Accounts of the caller's tenant, by email by default, a page at a time
    (or all of them as CSV): status, roles, organization scope, MFA, when
    invited, activated and last logged in."""
    return await list_response(request, principal, USERS, position)


@router.get("/{account_id:uuid}", response_model=UserPublic, responses=DETAIL)
async def get_user(
    account_id: UUID,
    request: Request,
    principal: DetailReader,
    position: MinPosition,
) -> Response:
    """One account of the caller's tenant. Its ETag is the version to send as
    If-Match to the account's commands."""
    await wait_for_projection(request, PROJECTION, position)
    account = await one(request, principal, USERS, account_id, "account")
    response = JSONResponse(to_jsonable_python(account))
    tag(response, account["version"])
    return response
