"""Redis on the read side: a cache keyed by read-model progress, never required.

:class:`RedisGuard` holds one redis-py client with short socket timeouts and
no retries. After a failure it stops calling Redis for ``pause`` seconds
(logging one warning), so a dead Redis costs one failed call per pause rather
than a timeout per request; callers then answer from Postgres.

:class:`ReadCache` answers ``fetch(kind, scope, projections, compute)``: the key
is ``assurehub:cache:v1:<kind>:<scope>:<watermark>``, where the watermark is the
progress of the projections the answer is built from, read from
``projection_tracking`` in one cheap query
(:data:`infra.postgres.watermark.WATERMARK`). Every event a
projection applies raises the sum of its tracked positions, so a new event
means a new key: entries are invalidated by position and never served stale.
The TTL only evicts keys no one asks for any more. The value is computed after
the watermark is read, so it reflects at least the position its key names.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from infra.errors import DependencyUnavailableError
from infra.postgres.watermark import ProgressWatermark

log = logging.getLogger(__name__)

T = TypeVar("T")


class RedisGuard:
    """One Redis client used only where Redis is optional.

    Args:
        url: ``redis://host:port/db``.
        timeout: Connect and read timeout of every call, in seconds.
        pause: After a failure, seconds during which Redis is not called.
        clock: Monotonic clock (tests).
    """

    def __init__(
        self,
        url: str,
        timeout: float = 0.2,
        pause: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._timeout = timeout
        self._pause = pause
        self._clock = clock
        self._client: redis.Redis[bytes] | None = None
        self._down_until = 0.0
        self._failing = False
        self._lock = threading.Lock()

    def _redis(self) -> redis.Redis[bytes]:
        with self._lock:
            if self._client is None:  # built on first use: nothing at start-up
                self._client = redis.Redis.from_url(
                    self._url,
                    socket_connect_timeout=self._timeout,
                    socket_timeout=self._timeout,
                    retry=Retry(NoBackoff(), 0),
                )
            return self._client

    @property
    def paused(self) -> bool:
        """Whether Redis failed within the pause (calls are skipped)."""
        return self._clock() < self._down_until

    def run(self, operation: str, call: Callable[[redis.Redis[bytes]], T]) -> T:
        """Run ``call`` on the client, unless Redis failed within the pause.

        Raises:
            DependencyUnavailableError: Redis failed now or recently (logged
                once per pause, with ``operation``).
        """
        if self.paused:
            raise DependencyUnavailableError("redis", "skipped after a recent failure")
        try:
            result = call(self._redis())
        except redis.RedisError as e:
            with self._lock:
                self._down_until = self._clock() + self._pause
                self._failing = True
            log.warning(
                "redis unavailable; answering without it",
                extra={"operation": operation, "error": str(e), "pause": self._pause},
            )
            raise DependencyUnavailableError("redis", str(e)) from e
        if self._failing:
            self._failing = False
            log.info("redis available again", extra={"operation": operation})
        return result

    def close(self) -> None:
        """Close the client's connections."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class ReadCache:
    """JSON answers in Redis, keyed by kind, scope and progress watermark.

    Args:
        guard: The Redis client; on any Redis failure the answer is computed.
        watermark: Reads the projections' progress.
        ttl: Seconds an entry lives (eviction only; staleness is by key).
        prefix: Key prefix; bump its version when the stored JSON changes.
    """

    def __init__(
        self,
        guard: RedisGuard,
        watermark: ProgressWatermark,
        ttl: int = 300,
        prefix: str = "assurehub:cache:v1",
    ) -> None:
        self._guard = guard
        self._watermark = watermark
        self._ttl = ttl
        self._prefix = prefix

    def fetch(
        self,
        kind: str,
        scope: str,
        projections: tuple[str, ...],
        compute: Callable[[], T],
        encode: Callable[[T], Any],
        decode: Callable[[Any], T],
    ) -> T:
        """The cached answer for ``scope`` at the projections' current
        progress, or ``compute()`` (then stored as ``encode(value)`` JSON)."""
        if self._guard.paused:
            return compute()  # not even the watermark query
        key = f"{self._prefix}:{kind}:{scope}:{self._watermark.read(projections)}"
        try:
            cached = self._guard.run(f"get {kind}", lambda r: r.get(key))
        except DependencyUnavailableError:
            return compute()
        if cached is not None:
            return decode(json.loads(cached))
        value = compute()
        payload = json.dumps(encode(value), separators=(",", ":"))
        with suppress(DependencyUnavailableError):  # next request tries again
            self._guard.run(f"set {kind}", lambda r: r.set(key, payload, ex=self._ttl))
        return value
