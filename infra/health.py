"""Readiness: Postgres decides; Kafka, Redis, halted projections and an
open event log alert only degrade (a halted projection is named with its
reason)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from infra.errors import DependencyUnavailableError
from infra.postgres.event_log import open_alerts
from infra.postgres.pool import Database
from infra.postgres.projection_halts import halted_projections
from infra.settings import Settings
from infra.streaming import kafka

log = logging.getLogger(__name__)

_CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class Readiness:
    ready: bool
    status: str
    """``ok``, ``degraded`` (Kafka or Redis down, or a projection halted) or
    ``unavailable`` (Postgres down)."""
    checks: dict[str, str]
    """``up`` or ``down`` per dependency; ``projections``: ``up``, ``halted``
    or ``unknown`` (Postgres cannot be asked)."""
    halted: dict[str, str] = field(default_factory=dict)
    """Each halted projection with why it stopped."""


class HealthCheck:
    """Checks each dependency; results are cached briefly to spare them."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self._settings = settings
        self._db = database
        self._cached: tuple[float, Readiness] | None = None

    def readiness(self) -> Readiness:
        now = time.monotonic()
        if self._cached and now - self._cached[0] < _CACHE_SECONDS:
            return self._cached[1]
        checks = {
            "postgres": self._check("postgres", self._db.ping),
            "kafka": self._check("kafka", lambda: kafka.ping(self._settings)),
            "redis": self._check("redis", self._ping_redis),
        }
        ready = checks["postgres"] == "up"
        halted = self._halted() if ready else None
        checks["projections"] = (
            "unknown" if halted is None else "halted" if halted else "up"
        )
        checks["event_log"] = self._event_log() if ready else "unknown"
        status = (
            "unavailable"
            if not ready
            else "ok"
            if all(v == "up" for v in checks.values())
            else "degraded"
        )
        result = Readiness(ready, status, checks, halted or {})
        self._cached = (now, result)
        return result

    def _halted(self) -> dict[str, str] | None:
        """Halted projections and why (``None``: Postgres could not say)."""
        try:
            with self._db.connection() as conn:
                return halted_projections(conn)
        except Exception as e:
            log.warning("projection halts not read", extra={"error": str(e)})
            return None

    def _event_log(self) -> str:
        """``up``, ``mismatch`` (the log watcher raised an alert no operator
        has resolved) or ``unknown``."""
        try:
            with self._db.connection() as conn:
                return "mismatch" if open_alerts(conn) else "up"
        except Exception as e:
            log.warning("log alerts not read", extra={"error": str(e)})
            return "unknown"

    def _ping_redis(self) -> None:
        client = redis.Redis.from_url(
            self._settings.redis_url, socket_connect_timeout=1, socket_timeout=1
        )
        try:
            client.ping()
        except redis.RedisError as e:
            raise DependencyUnavailableError("redis", str(e)) from e
        finally:
            client.close()

    @staticmethod
    def _check(name: str, probe: Callable[[], None]) -> str:
        try:
            probe()
        except Exception as e:
            log.warning("dependency down", extra={"dependency": name, "error": str(e)})
            return "down"
        return "up"
