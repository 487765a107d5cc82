"""Query route for the tenant's security events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from commands.http.edge import requires
from domain.access import Permission
from domain.principal import Principal
from projections.collections import SECURITY_EVENTS
from read_api.consistency import min_position
from read_api.listing import list_response, listing_openapi
from read_api.schemas.users import SecurityEventPage

router = APIRouter(prefix="/security-events", tags=["security events"])

Reader = Annotated[Principal, Depends(requires(Permission.SECURITY_EVENT_READ))]
MinPosition = Annotated[int | None, Depends(min_position)]


@router.get(
    "",
    response_model=SecurityEventPage,
    openapi_extra=listing_openapi(SECURITY_EVENTS),
)
async def list_security_events(
    request: Request, principal: Reader, position: MinPosition
) -> Response:
    """Security events of the caller's tenant, newest first, a page at a time
    (or all of them as CSV): logins and their failures with the address they
    came from, lockouts, sessions revoked, MFA, role and scope changes,
    account lifecycle, API tokens and the tenant's MFA policy. ``detail``
    holds the event's own facts, never a person's email or name."""
    return await list_response(request, principal, SECURITY_EVENTS, position)
