"""The command services routes call, one typed dependency per service.

The app factory puts the process's :class:`~commands.services.Services` on
``app.state.services``; a route names what it calls by type, never by a
string::

    @router.post("/{organization_id}/rename", response_model=CommandAccepted)
    def rename(..., svc: OrganizationServiceDep, version: ExpectedVersion): ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from commands.audits import AuditService
from commands.certificates import CertificateService
from commands.document_templates import DocumentTemplateService
from commands.documents import DocumentService
from commands.evidence import EvidenceService
from commands.findings import FindingService
from commands.identity.accounts import AccountService
from commands.identity.api_tokens import ApiTokenService
from commands.identity.mfa import MfaService
from commands.identity.sessions import SessionService
from commands.identity.tenants import TenantService
from commands.notification_preferences import NotificationPreferencesService
from commands.organizations import OrganizationService
from commands.services import Services
from commands.standard_templates import StandardTemplateService
from commands.tenant_settings import TenantSettingsService
from commands.webhooks import WebhookService

S = TypeVar("S")


def command_services(request: Request) -> Services:
    """The services the app factory installed for this request's app."""
    services: Services = request.app.state.services
    return services


def _service(pick: Callable[[Services], S]) -> Callable[[Request], Awaitable[S]]:
    async def service(request: Request) -> S:
        return pick(command_services(request))

    return service


OrganizationServiceDep = Annotated[
    OrganizationService, Depends(_service(lambda s: s.organizations))
]
StandardTemplateServiceDep = Annotated[
    StandardTemplateService, Depends(_service(lambda s: s.standard_templates))
]
DocumentTemplateServiceDep = Annotated[
    DocumentTemplateService, Depends(_service(lambda s: s.document_templates))
]
AuditServiceDep = Annotated[AuditService, Depends(_service(lambda s: s.audits))]
FindingServiceDep = Annotated[
    FindingService, Depends(_service(lambda s: s.audits.findings))
]
EvidenceServiceDep = Annotated[EvidenceService, Depends(_service(lambda s: s.evidence))]
CertificateServiceDep = Annotated[
    CertificateService, Depends(_service(lambda s: s.certificates))
]
DocumentServiceDep = Annotated[
    DocumentService, Depends(_service(lambda s: s.documents))
]
TenantSettingsServiceDep = Annotated[
    TenantSettingsService, Depends(_service(lambda s: s.tenant_settings))
]
TenantServiceDep = Annotated[TenantService, Depends(_service(lambda s: s.tenants))]
AccountServiceDep = Annotated[AccountService, Depends(_service(lambda s: s.accounts))]
SessionServiceDep = Annotated[SessionService, Depends(_service(lambda s: s.sessions))]
MfaServiceDep = Annotated[MfaService, Depends(_service(lambda s: s.mfa))]
ApiTokenServiceDep = Annotated[
    ApiTokenService, Depends(_service(lambda s: s.api_tokens))
]
NotificationPreferencesServiceDep = Annotated[
    NotificationPreferencesService,
    Depends(_service(lambda s: s.notification_preferences)),
]
WebhookServiceDep = Annotated[WebhookService, Depends(_service(lambda s: s.webhooks))]
