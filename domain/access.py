"""The one permission table: which tenant roles may do what.

Routes declare a :class:`Permission`; command services check it again with
:func:`authorize`, so a caller that bypasses HTTP is held to the same rule.
What only the backend's own processors may do (record a rendered document)
is no permission of any role: :func:`authorize_system` admits only a system
caller (:meth:`~domain.principal.Principal.for_system`).
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import MfaEnrollmentRequiredError, PermissionDeniedError
from domain.principal import Principal, Role


class Permission(StrEnum):
    """Things a caller may be allowed to do."""

    ORGANIZATION_REGISTER = "organization:register"
    ORGANIZATION_UPDATE = "organization:update"
    ORGANIZATION_READ = "organization:read"
    TEMPLATE_MANAGE = "template:manage"
    TEMPLATE_READ = "template:read"
    AUDIT_PLAN = "audit:plan"
    AUDIT_CONDUCT = "audit:conduct"
    AUDIT_REVIEW = "audit:review"
    AUDIT_DECIDE = "audit:decide"
    AUDIT_REOPEN = "audit:reopen"
    AUDIT_READ = "audit:read"
    FINDING_RESPOND = "finding:respond"
    CERTIFICATE_ISSUE = "certificate:issue"
    CERTIFICATE_MANAGE = "certificate:manage"
    CERTIFICATE_READ = "certificate:read"
    EVIDENCE_UPLOAD = "evidence:upload"
    DOCUMENT_REQUEST = "document:request"
    DOCUMENT_READ = "document:read"
    TENANT_SETTINGS_MANAGE = "tenant_settings:manage"
    TENANT_SETTINGS_READ = "tenant_settings:read"
    DASHBOARD_READ = "dashboard:read"
    TENANT_CREATE = "tenant:create"
    USER_MANAGE = "user:manage"
    USER_READ = "user:read"
    API_TOKEN_MANAGE = "api_token:manage"  # noqa: S105 - a permission name
    SECURITY_EVENT_READ = "security_event:read"
    EVENT_LOG_EXPORT = "event_log:export"
    WEBHOOK_MANAGE = "webhook:manage"
    SELF_SERVICE = "self:manage"
    NOTIFICATION_READ = "notification:read"
    AUDIT_TRAIL_READ = "audit_trail:read"
    PERSONAL_DATA_READ = "personal_data:read"
    EVENTS_READ = "events:read"
    EVENTS_READ_PERSONAL = "events:read_personal"


_MANAGERS = frozenset({Role.TENANT_ADMIN, Role.PROGRAMME_MANAGER})
_AUDITORS = _MANAGERS | {Role.AUDITOR}
_CLIENTS = _MANAGERS | {Role.CLIENT_ADMIN, Role.CLIENT_USER}
_DECIDERS = frozenset({Role.DECISION_MAKER})
_TENANT_READERS = frozenset(Role) - {Role.PLATFORM_ADMIN}
_OVERSEERS = _MANAGERS | {
    Role.TECHNICAL_REVIEWER,
    Role.DECISION_MAKER,
    Role.COMPLIANCE_OFFICER,
}

PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.ORGANIZATION_REGISTER: _MANAGERS,
    Permission.ORGANIZATION_UPDATE: _MANAGERS,
    Permission.ORGANIZATION_READ: _TENANT_READERS,
    Permission.TEMPLATE_MANAGE: _MANAGERS,
    Permission.TEMPLATE_READ: _TENANT_READERS,
    Permission.AUDIT_PLAN: _MANAGERS,
    Permission.AUDIT_CONDUCT: _AUDITORS,
    Permission.AUDIT_REVIEW: frozenset({Role.TECHNICAL_REVIEWER}),
    Permission.AUDIT_DECIDE: _DECIDERS,
    Permission.AUDIT_REOPEN: frozenset({Role.TENANT_ADMIN}),
    Permission.AUDIT_READ: _TENANT_READERS,
    Permission.FINDING_RESPOND: _CLIENTS,
    Permission.CERTIFICATE_ISSUE: _DECIDERS,
    Permission.CERTIFICATE_MANAGE: _MANAGERS | _DECIDERS,
    Permission.CERTIFICATE_READ: _TENANT_READERS,
    Permission.EVIDENCE_UPLOAD: _AUDITORS | _CLIENTS,
    # An auditor only as the audit's lead auditor (checked on the audit).
    Permission.DOCUMENT_REQUEST: _AUDITORS,
    # A client only for their organizations, and an audit's report only once
    # the audit is closed (checked by the documents listing).
    Permission.DOCUMENT_READ: _TENANT_READERS,
    Permission.TENANT_SETTINGS_MANAGE: frozenset({Role.TENANT_ADMIN}),
    Permission.TENANT_SETTINGS_READ: _TENANT_READERS,
    Permission.DASHBOARD_READ: _OVERSEERS,
    Permission.TENANT_CREATE: frozenset({Role.PLATFORM_ADMIN}),
    Permission.USER_MANAGE: frozenset({Role.TENANT_ADMIN}),
    Permission.USER_READ: frozenset({Role.TENANT_ADMIN, Role.COMPLIANCE_OFFICER}),
    Permission.API_TOKEN_MANAGE: frozenset({Role.TENANT_ADMIN}),
    Permission.SECURITY_EVENT_READ: frozenset(
        {Role.TENANT_ADMIN, Role.COMPLIANCE_OFFICER}
    ),
    Permission.EVENT_LOG_EXPORT: frozenset({Role.COMPLIANCE_OFFICER}),
    Permission.WEBHOOK_MANAGE: frozenset({Role.TENANT_ADMIN}),
    Permission.SELF_SERVICE: frozenset(Role),
    Permission.NOTIFICATION_READ: frozenset({Role.TENANT_ADMIN}),
    # The tenant's whole event trail, and the record of who read what.
    Permission.AUDIT_TRAIL_READ: frozenset(
        {Role.TENANT_ADMIN, Role.COMPLIANCE_OFFICER}
    ),
    # Other people's personal fields (``PERSONAL`` of an event class) in
    # histories and the trail; without it they are answered redacted.
    Permission.PERSONAL_DATA_READ: frozenset(
        {Role.TENANT_ADMIN, Role.COMPLIANCE_OFFICER}
    ),
    # The HTTP event feed, for integrations (API tokens) and their admins;
    # a client's token sees its organizations' events only (checked by the
    # feed), and personal fields only with events:read_personal.
    Permission.EVENTS_READ: frozenset(
        {
            Role.TENANT_ADMIN,
            Role.PROGRAMME_MANAGER,
            Role.COMPLIANCE_OFFICER,
            Role.CLIENT_ADMIN,
        }
    ),
    Permission.EVENTS_READ_PERSONAL: frozenset(
        {Role.TENANT_ADMIN, Role.COMPLIANCE_OFFICER}
    ),
}

SELF_SERVICE_ONLY = frozenset({Permission.SELF_SERVICE})
"""What a caller whose enrollment in MFA is pending may do."""


def is_allowed(principal: Principal, permission: Permission) -> bool:
    """Whether ``principal`` holds a role that grants ``permission``, within
    its token's scopes if it has any, and is not held to MFA enrollment."""
    if principal.scopes is not None and permission.value not in principal.scopes:
        return False
    if principal.mfa_enrollment_pending and permission not in SELF_SERVICE_ONLY:
        return False
    return principal.has_any_role(PERMISSIONS[permission])


def authorize(principal: Principal, permission: Permission) -> None:
    """Raise :class:`PermissionDeniedError` unless ``permission`` is granted."""
    if not is_allowed(principal, permission):
        if principal.mfa_enrollment_pending and principal.has_any_role(
            PERMISSIONS[permission]
        ):
            raise MfaEnrollmentRequiredError(permission.value, principal.actor_id)
        raise PermissionDeniedError(
            permission=permission.value, actor=principal.actor_id
        )


def authorize_system(principal: Principal, action: str) -> None:
    """Raise :class:`PermissionDeniedError` unless the caller is a system
    caller (a processor of this backend) allowed to do ``action``."""
    if not principal.system:
        raise PermissionDeniedError(
            permission=f"system:{action}", actor=principal.actor_id
        )
