"""History routes: every event of one audit, certificate, organization,
template or account, oldest first, and the tenant's whole trail.

A history is scoped exactly like its thing's detail: the thing is looked up
through the same listing (tenant, client organizations, audit scopes), so an
id the caller may not see is a ``404``; its events are then read from the
event store. Each read by staff is recorded (``x-access-recorded``, see
:mod:`read_api.access_recording`).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from commands.http.edge import requires
from domain.access import Permission
from domain.principal import Principal
from projections.collections import (
    AUDITS,
    CERTIFICATES,
    DOCUMENT_TEMPLATES,
    ORGANIZATIONS,
    STANDARD_TEMPLATES,
    USERS,
)
from projections.listing import Listing
from read_api.access_recording import recorded
from read_api.consistency import min_position, wait_for_projection
from read_api.exact_query import exact_query
from read_api.history_answers import EXPORTS, answer, history_of, viewer
from read_api.history_query import History, Trail
from read_api.resources import one
from read_api.schemas.history import HistoryPage

router = APIRouter(tags=["history"])


AuditReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.AUDIT_READ)))
]
CertificateReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.CERTIFICATE_READ)))
]
OrganizationReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.ORGANIZATION_READ)))
]
TemplateReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.TEMPLATE_READ)))
]
UserReader = Annotated[Principal, Depends(exact_query(requires(Permission.USER_READ)))]
MinPosition = Annotated[int | None, Depends(min_position)]
TrailReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.AUDIT_TRAIL_READ)))
]


def _route(kind: str) -> dict[str, Any]:
    return {
        "response_model": HistoryPage,
        "responses": EXPORTS,
        "openapi_extra": recorded(kind),
    }


async def _history(
    request: Request,
    principal: Principal,
    parsed: Any,
    listing: Listing,
    aggregate_id: UUID,
    kind: str,
    position: int | None,
) -> Response:
    # The thing is found in its read model (for the caller's scopes), which
    # min_position lets a caller wait for; its events come from the store.
    await wait_for_projection(request, listing.projection, position)
    await one(request, principal, listing, aggregate_id, kind)
    history, seen = history_of(request), viewer(principal)
    return await answer(
        parsed,
        lambda: history.aggregate_page(aggregate_id, parsed.query, seen),
        lambda: history.aggregate_batches(aggregate_id, parsed.query, seen),
        lambda: history.aggregate_lines(aggregate_id, parsed.query, seen),
        f"{kind}-{aggregate_id}-history",
    )


@router.get("/audits/{audit_id}/history", **_route("audit"))
async def audit_history(
    audit_id: UUID,
    request: Request,
    principal: AuditReader,
    parsed: History,
    position: MinPosition,
) -> Response:
    """Every event of the audit, oldest first: version, position, type, when,
    who, correlation and causation ids, and the change in its public JSON."""
    return await _history(
        request, principal, parsed, AUDITS, audit_id, "audit", position
    )


@router.get("/certificates/{certificate_id}/history", **_route("certificate"))
async def certificate_history(
    certificate_id: UUID,
    request: Request,
    principal: CertificateReader,
    parsed: History,
    position: MinPosition,
) -> Response:
    """Every event of the certificate, oldest first (see the audit's history)."""
    return await _history(
        request,
        principal,
        parsed,
        CERTIFICATES,
        certificate_id,
        "certificate",
        position,
    )


@router.get("/organizations/{organization_id}/history", **_route("organization"))
async def organization_history(
    organization_id: UUID,
    request: Request,
    principal: OrganizationReader,
    parsed: History,
    position: MinPosition,
) -> Response:
    """Every event of the organization, oldest first (see the audit's history)."""
    return await _history(
        request,
        principal,
        parsed,
        ORGANIZATIONS,
        organization_id,
        "organization",
        position,
    )


@router.get("/standard-templates/{template_id}/history", **_route("standard_template"))
async def standard_template_history(
    template_id: UUID,
    request: Request,
    principal: TemplateReader,
    parsed: History,
    position: MinPosition,
) -> Response:
    """Every event of the standard template, oldest first."""
    return await _history(
        request,
        principal,
        parsed,
        STANDARD_TEMPLATES,
        template_id,
        "template",
        position,
    )


@router.get("/document-templates/{template_id}/history", **_route("document_template"))
async def document_template_history(
    template_id: UUID,
    request: Request,
    principal: TemplateReader,
    parsed: History,
    position: MinPosition,
) -> Response:
    """Every event of the document template, oldest first."""
    return await _history(
        request,
        principal,
        parsed,
        DOCUMENT_TEMPLATES,
        template_id,
        "template",
        position,
    )


@router.get("/users/{account_id}/history", **_route("account"))
async def user_history(
    account_id: UUID,
    request: Request,
    principal: UserReader,
    parsed: History,
    position: MinPosition,
) -> Response:
    """Every event of the account, oldest first: invitation, roles, logins
    and their failures (with addresses), MFA, sessions."""
    return await _history(
        request, principal, parsed, USERS, account_id, "account", position
    )


@router.get("/audit-trail", **_route("trail"))
async def audit_trail(
    request: Request, principal: TrailReader, parsed: Trail, position: MinPosition
) -> Response:
    """Every event of the caller's tenant in store order, with the history's
    filters plus `aggregate_type` and `aggregate_id`: a page at a time, or
    all of them as JSON Lines (`format=jsonl`) for export. Reads of history,
    as-of states, the trail and documents by staff appear here as
    `access.recorded` events. The trail is read from the event store, which
    holds every accepted command's events: `min_position` is always reached."""
    del position
    history, seen = history_of(request), viewer(principal)
    tenant = principal.tenant_id
    return await answer(
        parsed,
        lambda: history.trail_page(tenant, parsed.query, seen),
        lambda: history.trail_batches(tenant, parsed.query, seen),
        lambda: history.trail_lines(tenant, parsed.query, seen),
        "audit-trail",
    )
