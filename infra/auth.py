"""Authenticators: how the edge builds the Principal.

Until accounts exist, development headers fill the whole Principal, and only
when ``ASSUREHUB_ENV=development``; in any other environment every request
is refused until real authentication is configured.

Development headers::

    X-Dev-Tenant: acme-cert            (required)
    X-Dev-Actor: alice                 (required)
    X-Dev-Roles: tenant_admin,auditor  (comma-separated Role values)
    X-Dev-Organizations: <uuid>,...    (optional scope; absent = whole tenant)
    X-Dev-Audits: <uuid>,...           (optional scope)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from uuid import UUID

from commands.http.edge import NotAuthenticatedError
from domain.principal import Principal, Role

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$")


def _ids(value: str | None, header: str) -> frozenset[UUID] | None:
    if value is None:
        return None
    try:
        return frozenset(UUID(v.strip()) for v in value.split(",") if v.strip())
    except ValueError as e:
        raise NotAuthenticatedError(f"{header} must list UUIDs") from e


class DevelopmentHeaderAuthenticator:
    """Reads the caller from ``X-Dev-*`` headers (development only)."""

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        tenant = headers.get("x-dev-tenant", "").strip()
        actor = headers.get("x-dev-actor", "").strip()
        if not _ID.match(tenant) or not _ID.match(actor):
            raise NotAuthenticatedError(
                "send X-Dev-Tenant and X-Dev-Actor (letters, digits, ._@:-)"
            )
        try:
            roles = frozenset(
                Role(r.strip())
                for r in headers.get("x-dev-roles", "").split(",")
                if r.strip()
            )
        except ValueError as e:
            allowed = ", ".join(r.value for r in Role)
            raise NotAuthenticatedError(f"X-Dev-Roles must be among: {allowed}") from e
        return Principal(
            tenant_id=tenant,
            actor_id=actor,
            roles=roles,
            organization_ids=_ids(
                headers.get("x-dev-organizations"), "X-Dev-Organizations"
            ),
            audit_ids=_ids(headers.get("x-dev-audits"), "X-Dev-Audits"),
        )


class NoAuthenticator:
    """Refuses every request: no authentication is configured yet."""

    def authenticate(self, headers: Mapping[str, str]) -> Principal:  # noqa: ARG002
        raise NotAuthenticatedError("authentication is required")
