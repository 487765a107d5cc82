"""Routes of the platform administrators: creating tenants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from commands.context import CommandContext
from commands.http.deps import TenantServiceDep
from commands.http.edge import context_for
from commands.http.identity_schemas import TenantCreate, TenantCreated
from commands.identity.tenants import CreateTenant
from domain.access import Permission

router = APIRouter(prefix="/platform", tags=["platform"])

Operator = Annotated[CommandContext, Depends(context_for(Permission.TENANT_CREATE))]


@router.post(
    "/tenants", status_code=status.HTTP_201_CREATED, response_model=TenantCreated
)
def create_tenant(
    body: TenantCreate, ctx: Operator, svc: TenantServiceDep, response: Response
) -> TenantCreated:
    """Create a tenant and invite its first tenant administrator by e-mail.
    The tenant's certificate numbers start with the code answered: the
    letters and digits of its id, numbered when another tenant has them."""
    created = svc.create_tenant(
        ctx,
        CreateTenant(
            body.tenant_id,
            body.name,
            body.administrator.email,
            body.administrator.name,
        ),
    )
    response.headers["Location"] = f"/users/{created.account.id}"
    return TenantCreated(
        tenant_id=created.tenant_id,
        administrator_id=created.account.id,
        position=created.account.position,
        certificate_code=created.certificate_code,
    )
