"""Query route of the caller's tenant's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from commands.context import CommandContext
from commands.http.deps import TenantSettingsServiceDep
from commands.http.edge import context_for
from domain.access import Permission
from read_api.consistency import ALWAYS_CURRENT
from read_api.exact_query import exact_query
from read_api.schemas.identity import TenantSettingsPublic

router = APIRouter(prefix="/tenant/settings", tags=["tenant settings"])

Reader = Annotated[
    CommandContext, Depends(exact_query(context_for(Permission.TENANT_SETTINGS_READ)))
]


@router.get("", response_model=TenantSettingsPublic, dependencies=[ALWAYS_CURRENT])
def show_settings(
    ctx: Reader, svc: TenantSettingsServiceDep, response: Response
) -> TenantSettingsPublic:
    """The tenant's settings; UTC until a time zone is set."""
    view = svc.show(ctx)
    if view.version:
        response.headers["ETag"] = f'"{view.version}"'
    return TenantSettingsPublic(
        tenant_id=view.tenant_id,
        time_zone=view.time_zone,
        today=ctx.today,
        mfa_required_for_all=view.mfa_required_for_all,
        mfa_required_roles=list(view.mfa_required_roles),
        certificate_template_id=view.certificate_template_id,
        version=view.version,
    )
