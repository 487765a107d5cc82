"""Readiness: Postgres decides; Kafka and Redis only degrade."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from infra.errors import DependencyUnavailableError
from infra.postgres.pool import Database
from infra.settings import Settings
from infra.streaming import kafka

log = logging.getLogger(__name__)

_CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class Readiness:
    ready: bool
    status: str
    """``ok``, ``degraded`` (Kafka or Redis down) or ``unavailable``."""
    checks: dict[str, str]


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
        status = (
            "unavailable"
            if not ready
            else "ok"
            if all(v == "up" for v in checks.values())
            else "degraded"
        )
        result = Readiness(ready, status, checks)
        self._cached = (now, result)
        return result

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
