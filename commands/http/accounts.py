"""Routes a tenant administrator manages the tenant's people with."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from commands.context import CommandContext
from commands.http.deps import AccountServiceDep
from commands.http.edge import (
    ExpectedVersion,
    answer,
    context_for,
)
from commands.http.identity_schemas import InvitationCreate, LegalHoldSet, RolesChange
from commands.http.schemas import CommandAccepted
from commands.identity.accounts import Invite
from domain.access import Permission

router = APIRouter(prefix="/users", tags=["users"])

Admin = Annotated[CommandContext, Depends(context_for(Permission.USER_MANAGE))]


@router.post(
    "/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=CommandAccepted,
)
def invite(
    body: InvitationCreate, ctx: Admin, svc: AccountServiceDep, response: Response
) -> CommandAccepted:
    """Invite a person by e-mail with their roles (client roles need the
    organizations they belong to). The e-mail carries a single-use link that
    expires."""
    accepted = svc.invite(
        ctx,
        Invite(
            body.email,
            body.name,
            [r.value for r in body.roles],
            tuple(body.organization_ids),
        ),
    )
    return answer(accepted, response, location=f"/users/{accepted.id}")


@router.post("/{account_id}/invitation", response_model=CommandAccepted)
def reissue_invitation(
    account_id: UUID,
    ctx: Admin,
    svc: AccountServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Send a new invitation e-mail; earlier links stop working."""
    accepted = svc.reissue_invitation(ctx, account_id, version)
    return answer(accepted, response)


@router.post("/{account_id}/roles", response_model=CommandAccepted)
def set_roles(
    account_id: UUID,
    body: RolesChange,
    ctx: Admin,
    svc: AccountServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Set the account's roles (and, for client roles, organizations); takes
    effect on the person's next request."""
    accepted = svc.set_roles(
        ctx,
        account_id,
        [r.value for r in body.roles],
        tuple(body.organization_ids),
        version,
    )
    return answer(accepted, response)


@router.post("/{account_id}/deactivate", response_model=CommandAccepted)
def deactivate(
    account_id: UUID,
    ctx: Admin,
    svc: AccountServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Deactivate the account: its sessions end now and it cannot log in."""
    return answer(svc.deactivate(ctx, account_id, version), response)


@router.post("/{account_id}/reactivate", response_model=CommandAccepted)
def reactivate(
    account_id: UUID,
    ctx: Admin,
    svc: AccountServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Let a deactivated account log in again."""
    return answer(svc.reactivate(ctx, account_id, version), response)


@router.post("/{account_id}/mfa/reset", response_model=CommandAccepted)
def reset_mfa(
    account_id: UUID,
    ctx: Admin,
    svc: AccountServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Remove the account's second factor (a lost phone): its sessions end
    and it enrolls again (before anything else, where the tenant requires
    MFA)."""
    return answer(svc.reset_mfa(ctx, account_id, version), response)


@router.put("/{account_id}/legal-hold", response_model=CommandAccepted)
def set_legal_hold(
    account_id: UUID,
    body: LegalHoldSet,
    ctx: Admin,
    svc: AccountServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Put the person's data on legal hold: erasing them is refused (409
    ``account.legal_hold``) until the hold is cleared."""
    return answer(svc.set_legal_hold(ctx, account_id, body.reason, version), response)


@router.delete("/{account_id}/legal-hold", response_model=CommandAccepted)
def clear_legal_hold(
    account_id: UUID,
    ctx: Admin,
    svc: AccountServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """End the person's legal hold."""
    return answer(svc.clear_legal_hold(ctx, account_id, version), response)


@router.post("/{account_id}/erase", response_model=CommandAccepted)
def erase(
    account_id: UUID,
    ctx: Admin,
    svc: AccountServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Erase the person (right to erasure) unless a legal hold applies: their
    data key is destroyed, so their e-mail, name and login addresses read
    ``[erased]`` in events, read models, the topic and every later document or
    feed; the account stops and its e-mail can be invited again. Client
    contacts of organizations are accounts too and are erased here."""
    return answer(svc.erase(ctx, account_id, version), response)
