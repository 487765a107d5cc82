"""Query route of the caller's own account: who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from commands.context import CommandContext
from commands.http.deps import AccountServiceDep
from commands.http.edge import context_for
from domain.access import Permission
from domain.principal import Role
from read_api.consistency import ALWAYS_CURRENT
from read_api.exact_query import exact_query
from read_api.schemas.identity import MePublic

router = APIRouter(prefix="/me", tags=["my account"])

Self = Annotated[
    CommandContext,
    Depends(exact_query(context_for(Permission.SELF_SERVICE, idempotent=False))),
]


@router.get("", response_model=MePublic, dependencies=[ALWAYS_CURRENT])
def me(ctx: Self, svc: AccountServiceDep) -> MePublic:
    """The caller's account: e-mail, name, roles, scope and MFA state."""
    record = svc.me(ctx)
    return MePublic(
        account_id=record.account_id,
        tenant=record.tenant_id,
        email=record.email,
        name=record.name,
        roles=[Role(r) for r in record.roles],
        organization_ids=list(record.organization_ids),
        mfa_enrolled=record.mfa_enrolled,
        mfa_enrollment_required=ctx.principal.mfa_enrollment_pending,
    )
