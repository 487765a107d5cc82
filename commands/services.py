"""The command services of one process, as one typed bundle.

The composition root (``infra.bootstrap``) builds it once per process; the
HTTP routes reach it through :mod:`commands.http.deps`, the processors and
the ``assurehub`` command through the container.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.audits import AuditService
from commands.certificates import CertificateService
from commands.document_templates import DocumentTemplateService
from commands.documents import DocumentService
from commands.evidence import EvidenceService
from commands.identity.accounts import AccountService
from commands.identity.api_tokens import ApiTokenService
from commands.identity.mfa import MfaService
from commands.identity.sessions import SessionService
from commands.identity.tenants import TenantService
from commands.notification_preferences import NotificationPreferencesService
from commands.organizations import OrganizationService
from commands.standard_templates import StandardTemplateService
from commands.tenant_settings import TenantCalendar, TenantSettingsService
from commands.webhooks import WebhookService


@dataclass
class Services:
    """The command services routes call (``app.state.services``)."""

    organizations: OrganizationService
    standard_templates: StandardTemplateService
    document_templates: DocumentTemplateService
    audits: AuditService
    evidence: EvidenceService
    certificates: CertificateService
    documents: DocumentService
    tenant_settings: TenantSettingsService
    calendar: TenantCalendar
    tenants: TenantService
    accounts: AccountService
    sessions: SessionService
    mfa: MfaService
    api_tokens: ApiTokenService
    notification_preferences: NotificationPreferencesService
    webhooks: WebhookService
