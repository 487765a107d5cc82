"""Routes for the caller's tenant's settings (its calendar's time zone, its
MFA policy, its certificate template)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from commands.context import CommandContext
from commands.http.deps import TenantSettingsServiceDep
from commands.http.edge import (
    ExpectedVersion,
    answer,
    context_for,
)
from commands.http.identity_schemas import MfaPolicySet
from commands.http.schemas import CommandAccepted, StrictBody
from commands.http.text import Text
from commands.tenant_settings import SetCertificateTemplate, SetMfaPolicy, SetTimeZone
from domain.access import Permission

router = APIRouter(prefix="/tenant/settings", tags=["tenant settings"])


class TimeZoneSet(StrictBody):
    """Body of ``POST /tenant/settings/time-zone``."""

    time_zone: Text = Field(
        min_length=1,
        max_length=64,
        description="IANA time zone; calendar dates of commands are taken in it",
        examples=["Europe/Berlin"],
    )


class CertificateTemplateSet(StrictBody):
    """Body of ``POST /tenant/settings/certificate-template``."""

    template_id: UUID = Field(
        description="A document template of kind certificate, not retired",
        examples=["0b7d4c8e-5a61-4f0e-8d3c-2e9f1a6b7c02"],
    )


Admin = Annotated[
    CommandContext, Depends(context_for(Permission.TENANT_SETTINGS_MANAGE))
]


@router.post("/time-zone", response_model=CommandAccepted)
def set_time_zone(
    body: TimeZoneSet,
    ctx: Admin,
    svc: TenantSettingsServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Date the tenant's commands (audit start, decisions, issue dates,
    suspensions) in this time zone from now on."""
    command = SetTimeZone(body.time_zone, version)
    return answer(svc.set_time_zone(ctx, command), response)


@router.post("/mfa-policy", response_model=CommandAccepted)
def set_mfa_policy(
    body: MfaPolicySet,
    ctx: Admin,
    svc: TenantSettingsServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Require a second factor of every user, or of the users holding the
    listed roles. Those not enrolled are taken through enrollment at their
    next login, before anything else."""
    command = SetMfaPolicy(
        body.required_for_all,
        tuple(r.value for r in body.required_roles),
        version,
    )
    return answer(svc.set_mfa_policy(ctx, command), response)


@router.post("/certificate-template", response_model=CommandAccepted)
def set_certificate_template(
    body: CertificateTemplateSet,
    ctx: Admin,
    svc: TenantSettingsServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Render the tenant's certificates with this document template (its
    current layout when each is rendered) from now on. Until one is chosen,
    certificates get no document."""
    command = SetCertificateTemplate(body.template_id, version)
    return answer(svc.set_certificate_template(ctx, command), response)
