"""Fixed-window attempt limits, counted in Redis, never switched off.

Each :class:`Limit` allows ``attempts`` per window of ``window`` seconds for
one subject (a client address, a certificate number). The count lives in
Redis under ``<prefix>:<limit>:<digest of subject>``: one Lua script
increments it and, on the first attempt of a window, sets its expiry, so
concurrent API processes share the count atomically. The key's remaining time
is the ``Retry-After`` of a refused attempt. Subjects are hashed, so no client
address or number is written to Redis.

When Redis cannot be reached (or was failing moments ago, see
:class:`~infra.cache.redis.RedisGuard`), the same windows are counted in this
process instead, so limits stay on. They are then per process: with N API
workers a subject gets up to N times the limit until Redis is back.

A fixed window lets a client spend a full window's attempts just before a
boundary and again just after it (at most twice the limit in a short burst).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from redis.commands.core import Script

from infra.cache.redis import RedisGuard
from infra.errors import DependencyUnavailableError

_HIT = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""
_MAX_LOCAL_SUBJECTS = 100_000


@dataclass(frozen=True)
class Limit:
    """``attempts`` per ``window`` seconds, per subject; ``name`` keys it."""

    name: str
    attempts: int
    window: int


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may go ahead; if not, seconds until it may."""

    allowed: bool
    retry_after: int = 0


class LocalWindows:
    """The in-process twin of the Redis count (the fallback)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: int) -> tuple[int, float]:
        """Count an attempt on ``key``; its count and seconds left in the window."""
        now = self._clock()
        with self._lock:
            if len(self._windows) >= _MAX_LOCAL_SUBJECTS:
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            ends, count = self._windows.get(key, (0.0, 0))
            if ends <= now:
                ends, count = now + window, 0
            self._windows[key] = (ends, count + 1)
        return count + 1, ends - now


class RateLimiter:
    """Counts attempts per subject in Redis, or in this process without it.

    Args:
        guard: The Redis client.
        prefix: Key prefix (tests use their own).
        local: The fallback counts.
    """

    def __init__(
        self,
        guard: RedisGuard,
        prefix: str = "assurehub:ratelimit",
        local: LocalWindows | None = None,
    ) -> None:
        self._guard = guard
        self._prefix = prefix
        self._local = local or LocalWindows()
        self._script: Script | None = None

    def hit(self, limit: Limit, subject: str) -> Verdict:
        """Count one attempt by ``subject`` against ``limit`` (any text: an
        unpaired surrogate is hashed as it stands)."""
        raw = subject.encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(raw).hexdigest()[:32]
        key = f"{self._prefix}:{limit.name}:{digest}"
        try:
            count, left = self._guard.run(
                f"rate limit {limit.name}", lambda r: self._in_redis(r, key, limit)
            )
        except DependencyUnavailableError:
            count, left = self._local.hit(key, limit.window)
        if count <= limit.attempts:
            return Verdict(True)
        return Verdict(False, max(1, math.ceil(left)))

    def _in_redis(
        self, client: redis.Redis[bytes], key: str, limit: Limit
    ) -> tuple[int, float]:
        if self._script is None:
            self._script = client.register_script(_HIT)
        count, ttl_ms = self._script(
            keys=[key], args=[limit.window * 1000], client=client
        )
        return int(count), int(ttl_ms) / 1000


class VerificationLimits:
    """The limits on public certificate verification.

    Args:
        limiter: Where attempts are counted.
        per_address: Attempts per minute from one client address.
        per_number: Attempts per hour on one certificate number, whatever the
            address (stops guessing a code from many addresses; a flood can
            hold a number's verification back for the rest of the hour).
    """

    def __init__(self, limiter: RateLimiter, per_address: int, per_number: int) -> None:
        self._limiter = limiter
        self._address = Limit("verify-address", per_address, 60)
        self._number = Limit("verify-number", per_number, 3600)

    def check(self, address: str, number: str) -> Verdict:
        """Count an attempt from ``address`` on ``number``; the address is
        checked first, and a refused attempt does not count against the number."""
        verdict = self._limiter.hit(self._address, address)
        if not verdict.allowed:
            return verdict
        return self._limiter.hit(self._number, number)


class AuthAttemptLimits:
    """Limits on the anonymous identity steps that take a secret or send
    mail (invitation acceptance, password-reset request and confirmation):
    ``per_minute`` attempts per client address and per subject (the e-mail or
    the token's digest), each step counted on its own."""

    def __init__(self, limiter: RateLimiter, per_minute: int) -> None:
        self._limiter = limiter
        self._per_minute = per_minute

    def retry_after(self, step: str, address: str, subject: str) -> int | None:
        """Count an attempt; the seconds to wait if it is over a limit."""
        for scope, value in (("address", address), ("subject", subject)):
            limit = Limit(f"auth-{step}-{scope}", self._per_minute, 60)
            verdict = self._limiter.hit(limit, value)
            if not verdict.allowed:
                return verdict.retry_after
        return None
