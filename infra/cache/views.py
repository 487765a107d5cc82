"""What the query routes use beyond the read models: cached views and limits.

The composition root (:func:`infra.bootstrap.bootstrap`) builds them on the
process's one Redis client; ``create_app`` puts them on
``app.state.read_services``.

The dashboard and the public verification answer are read through
:class:`~infra.cache.redis.ReadCache`, keyed by the caller's scope (or the
typed number and code) and the progress of the read models behind them; with
Redis down they are answered from Postgres.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from commands.ports import FileStore
from domain.principal import Principal
from infra.cache.rate_limit import VerificationLimits
from infra.cache.redis import ReadCache
from infra.postgres import dashboard, verification
from infra.postgres.dashboard import Dashboard, PostgresDashboardView
from infra.postgres.verification import (
    CertificateVerification,
    LocatedCertificate,
    PostgresVerificationView,
)
from projections.certificates import verification_digest


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


class CachedDashboardView:
    """:class:`PostgresDashboardView` behind the read cache."""

    def __init__(self, view: PostgresDashboardView, cache: ReadCache) -> None:
        self._view = view
        self._cache = cache

    def summary(self, principal: Principal, today: date) -> Dashboard:
        """The dashboard of ``principal``'s tenant and scopes on ``today``."""
        scope = _digest(
            principal.tenant_id,
            today,
            *(
                None if ids is None else sorted(map(str, ids))
                for ids in (principal.organization_ids, principal.audit_ids)
            ),
        )
        return self._cache.fetch(
            "dashboard",
            scope,
            dashboard.PROJECTIONS,
            lambda: self._view.summary(principal, today),
            Dashboard.to_json,
            Dashboard.from_json,
        )


class CachedVerificationView:
    """:class:`PostgresVerificationView` behind the read cache (a miss is
    cached too, so repeated wrong guesses cost Redis, not Postgres)."""

    def __init__(self, view: PostgresVerificationView, cache: ReadCache) -> None:
        self._view = view
        self._cache = cache

    def verify(
        self, number: str, code: str, today: date
    ) -> CertificateVerification | None:
        """See :meth:`PostgresVerificationView.verify`."""
        return self._cache.fetch(
            "verification",
            _digest(number, verification_digest(code), today),
            verification.PROJECTIONS,
            lambda: self._view.verify(number, code, today),
            lambda found: found.to_json() if found else None,
            lambda value: CertificateVerification.from_json(value) if value else None,
        )

    def locate(self, number: str, code: str) -> LocatedCertificate | None:
        """See :meth:`PostgresVerificationView.locate` (not cached)."""
        return self._view.locate(number, code)

    def revisions(
        self, tenant_id: str, certificate_id: UUID
    ) -> LocatedCertificate | None:
        """See :meth:`PostgresVerificationView.revisions` (not cached)."""
        return self._view.revisions(tenant_id, certificate_id)


@dataclass
class ReadServices:
    """The read side's cached views and limits (``app.state.read_services``)."""

    dashboard: CachedDashboardView
    verification: CachedVerificationView
    verification_limits: VerificationLimits
    files: FileStore
    """The evidence bytes (content-addressed), for downloads."""
