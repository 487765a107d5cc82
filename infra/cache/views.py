"""What the query routes beyond the container use: cached views and limits.

:func:`build_read_services` wires them from settings; ``create_app`` keeps the
result on ``app.state.read_services``. Nothing connects here: the Redis client
is made on first use.

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

from commands.ports import FileStore
from domain.principal import Principal
from infra.cache.redis import ProgressWatermark, ReadCache, RedisGuard
from infra.files import LocalFileStore
from infra.identity.rate_limit import RateLimiter, VerificationLimits
from infra.postgres import dashboard, verification
from infra.postgres.dashboard import Dashboard, PostgresDashboardView
from infra.postgres.pool import Database
from infra.postgres.verification import (
    CertificateVerification,
    PostgresVerificationView,
)
from infra.settings import Settings
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


@dataclass
class ReadServices:
    """The read side's cached views and limits (``app.state.read_services``)."""

    dashboard: CachedDashboardView
    verification: CachedVerificationView
    verification_limits: VerificationLimits
    redis: RedisGuard
    files: FileStore
    """The evidence bytes (content-addressed), for downloads."""

    def close(self) -> None:
        """Close the Redis client."""
        self.redis.close()


def build_read_services(settings: Settings, database: Database) -> ReadServices:
    """Wire the read services for ``settings`` on ``database``."""
    guard = RedisGuard(
        settings.redis_url,
        timeout=settings.redis_timeout_seconds,
        pause=settings.redis_pause_seconds,
    )
    cache = ReadCache(
        guard,
        ProgressWatermark(database, settings.kafka_topic),
        ttl=settings.cache_ttl_seconds,
    )
    return ReadServices(
        dashboard=CachedDashboardView(
            PostgresDashboardView(database, settings.kafka_topic), cache
        ),
        verification=CachedVerificationView(PostgresVerificationView(database), cache),
        verification_limits=VerificationLimits(
            RateLimiter(guard),
            per_address=settings.verify_attempts_per_minute,
            per_number=settings.verify_attempts_per_number_hour,
        ),
        redis=guard,
        files=LocalFileStore(settings.media_dir),
    )
