"""The command services routes call, one typed dependency per service.

The composition root builds the services once and the app factory puts them
on ``app.state.services`` (checked there against :class:`CommandServices`). A
route names what it calls by type, never by a string::

    @router.post("/{organization_id}/rename", response_model=CommandAccepted)
    def rename(..., svc: OrganizationServiceDep, version: ExpectedVersion): ...
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from commands.audits import AuditService
from commands.certificates import CertificateService
from commands.document_templates import DocumentTemplateService
from commands.evidence import EvidenceService
from commands.findings import FindingService
from commands.identity.accounts import AccountService
from commands.identity.api_tokens import ApiTokenService
from commands.identity.mfa import MfaService
from commands.identity.sessions import SessionService
from commands.identity.tenants import TenantService
from commands.organizations import OrganizationService
from commands.standard_templates import StandardTemplateService
from commands.tenant_settings import TenantCalendar, TenantSettingsService


class CommandServices(Protocol):
    """The command services of a process (``app.state.services``)."""

    organizations: OrganizationService
    standard_templates: StandardTemplateService
    document_templates: DocumentTemplateService
    audits: AuditService
    evidence: EvidenceService
    certificates: CertificateService
    tenant_settings: TenantSettingsService
    calendar: TenantCalendar
    tenants: TenantService
    accounts: AccountService
    sessions: SessionService
    mfa: MfaService
    api_tokens: ApiTokenService


def command_services(request: Request) -> CommandServices:
    """The services the app factory installed for this request's app."""
    services: CommandServices = request.app.state.services
    return services


async def _organizations(request: Request) -> OrganizationService:
    return command_services(request).organizations


async def _standard_templates(request: Request) -> StandardTemplateService:
    return command_services(request).standard_templates


async def _document_templates(request: Request) -> DocumentTemplateService:
    return command_services(request).document_templates


async def _audits(request: Request) -> AuditService:
    return command_services(request).audits


async def _findings(request: Request) -> FindingService:
    return command_services(request).audits.findings


async def _evidence(request: Request) -> EvidenceService:
    return command_services(request).evidence


async def _certificates(request: Request) -> CertificateService:
    return command_services(request).certificates


async def _tenant_settings(request: Request) -> TenantSettingsService:
    return command_services(request).tenant_settings


async def _tenants(request: Request) -> TenantService:
    return command_services(request).tenants


async def _accounts(request: Request) -> AccountService:
    return command_services(request).accounts


async def _sessions(request: Request) -> SessionService:
    return command_services(request).sessions


async def _mfa(request: Request) -> MfaService:
    return command_services(request).mfa


async def _api_tokens(request: Request) -> ApiTokenService:
    return command_services(request).api_tokens


OrganizationServiceDep = Annotated[OrganizationService, Depends(_organizations)]
StandardTemplateServiceDep = Annotated[
    StandardTemplateService, Depends(_standard_templates)
]
DocumentTemplateServiceDep = Annotated[
    DocumentTemplateService, Depends(_document_templates)
]
AuditServiceDep = Annotated[AuditService, Depends(_audits)]
FindingServiceDep = Annotated[FindingService, Depends(_findings)]
EvidenceServiceDep = Annotated[EvidenceService, Depends(_evidence)]
CertificateServiceDep = Annotated[CertificateService, Depends(_certificates)]
TenantSettingsServiceDep = Annotated[TenantSettingsService, Depends(_tenant_settings)]
TenantServiceDep = Annotated[TenantService, Depends(_tenants)]
AccountServiceDep = Annotated[AccountService, Depends(_accounts)]
SessionServiceDep = Annotated[SessionService, Depends(_sessions)]
MfaServiceDep = Annotated[MfaService, Depends(_mfa)]
ApiTokenServiceDep = Annotated[ApiTokenService, Depends(_api_tokens)]
