"""The caller of every command and query.

A :class:`Principal` is built only at the HTTP edge (from development headers
today, from tokens later). Everything behind the edge (domain rules, event
metadata, read-model queries) uses only this value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID


class Role(StrEnum):
    """Tenant roles. Audit-team roles come with the audit domain."""

    PLATFORM_ADMIN = "platform_admin"
    TENANT_ADMIN = "tenant_admin"
    PROGRAMME_MANAGER = "programme_manager"
    AUDITOR = "auditor"
    TECHNICAL_REVIEWER = "technical_reviewer"
    DECISION_MAKER = "decision_maker"
    COMPLIANCE_OFFICER = "compliance_officer"
    CLIENT_ADMIN = "client_admin"
    CLIENT_USER = "client_user"


CLIENT_ROLES = frozenset({Role.CLIENT_ADMIN, Role.CLIENT_USER})
"""Roles of a client organization's people, who see only what concerns them."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, for which tenant, with which roles and scopes.

    Attributes:
        tenant_id: The assurance provider's workspace the caller acts in.
        actor_id: Stable id of the person or service account.
        roles: Tenant roles held by the caller.
        organization_ids: Client organizations the caller is limited to;
            ``None`` means every organization of the tenant.
        audit_ids: Audits the caller is limited to; ``None`` means no limit.
        scopes: Permissions an API token is limited to (values of
            :class:`~domain.access.Permission`); ``None`` for people, whose
            roles alone decide.
        session_id: The login session (or API token) the call comes with.
        mfa_enrollment_pending: The tenant requires MFA of this caller, who
            has not enrolled yet: only enrollment is allowed until they do.
        system: The caller is a processor of this backend acting in the
            tenant (see :meth:`for_system`); no authenticator sets it, so no
            request over HTTP is ever a system caller.
    """

    tenant_id: str
    actor_id: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    organization_ids: frozenset[UUID] | None = None
    audit_ids: frozenset[UUID] | None = None
    scopes: frozenset[str] | None = None
    session_id: str | None = None
    mfa_enrollment_pending: bool = False
    system: bool = False

    @classmethod
    def for_system(cls, tenant_id: str, actor_id: str) -> Principal:
        """A processor acting in ``tenant_id`` as ``actor_id`` (e.g.
        ``system:documents``); it holds no role, only system permissions."""
        return cls(tenant_id, actor_id, system=True)

    @property
    def is_client(self) -> bool:
        """Whether the caller holds a client organization's role."""
        return not self.roles.isdisjoint(CLIENT_ROLES)

    def has_any_role(self, roles: frozenset[Role]) -> bool:
        """Whether the caller holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)

    def may_see_organization(self, organization_id: UUID) -> bool:
        """Whether the organization scope admits ``organization_id``."""
        return self.organization_ids is None or organization_id in self.organization_ids
