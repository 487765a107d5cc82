"""Login lockouts: failures counted per key in Redis, never switched off.

A key names what is being guessed at: an account (``login:acct:<tenant>:<email>``,
``otp:acct:<account id>``) or a client address (``login:addr:<address>``,
``otp:addr:<address>``). Each failure on a key raises its count; the count
lives :attr:`LockoutPolicy.failure_window` seconds (15 minutes), renewed by
every failure. When the count reaches the key's threshold (account keys:
``login_failures_before_lockout``; address keys:
``address_failures_before_lockout``) the key is locked and its count starts
again. A lockout lasts ``lockout_base_seconds * 2**n``, where ``n`` is the
number of earlier lockouts of the key within 24 hours, capped at
``lockout_max_seconds``. A success clears the counts of the keys it is given,
not their lockout history.

In Redis each key ``k`` is three entries under ``<prefix>:<kind>:`` plus the
digest of ``k`` (so no e-mail or address is written to Redis): ``f:`` the
failure count, ``l:`` the lock (its TTL is the time left) and ``h:`` the
lockout times of the last 24 hours (a sorted set). One Lua script counts a
failure on all keys of an attempt atomically, with the Redis server's clock,
so every API process shares the counts and the lockouts.

When Redis cannot be reached (or failed moments ago, see
:class:`~infra.cache.redis.RedisGuard`), the same rules run in this process
(:class:`LocalLoginGuard`, bounded in memory) and one WARNING is logged per
outage. Counts are then per process: with N API workers an attacker gets up
to N times the threshold before every worker has locked the key, and a
lockout started in one worker does not stop the others. Lockouts started
in-process are still honoured by that process after Redis is back (``blocked``
always consults both).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import redis
from redis.commands.core import Script

from infra.cache.redis import RedisGuard
from infra.errors import DependencyUnavailableError
from infra.settings import Settings

log = logging.getLogger(__name__)

_MAX_LOCAL_KEYS = 100_000

_FAILED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, day = tonumber(ARGV[1]), tonumber(ARGV[2])
local base, cap = tonumber(ARGV[3]), tonumber(ARGV[4])
local started = {}
for i = 1, #KEYS / 3 do
    local f, l, h = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
    local ms = 0
    if redis.call('PTTL', l) < 0 then
        local n = redis.call('INCR', f)
        redis.call('PEXPIRE', f, window)
        if n >= tonumber(ARGV[4 + i]) then
            redis.call('ZREMRANGEBYSCORE', h, '-inf', now - day)
            local earlier = redis.call('ZCARD', h)
            ms = math.floor(math.min(base * 2 ^ earlier, cap))
            redis.call('SET', l, '1', 'PX', ms)
            redis.call('ZADD', h, now, now)
            redis.call('PEXPIRE', h, day)
            redis.call('DEL', f)
        end
    end
    started[i] = ms
end
return started
"""


IN_FLIGHT_SECONDS = 10
"""Longest time one attempt may hold its key (a password check takes well
under a second; a crashed request frees the key after this)."""


@dataclass(frozen=True)
class LockoutPolicy:
    """Thresholds and lockout durations, in seconds.

    Args:
        account_failures: Failures on an account key (``*:acct:*``) that lock it.
        address_failures: Failures on an address key (``*:addr:*``) that lock it.
        base_seconds: The first lockout of a key.
        max_seconds: The longest lockout.
        failure_window: Seconds a count lives after the latest failure.
        history_window: Seconds a lockout counts towards the next one's length.
    """

    account_failures: int
    address_failures: int
    base_seconds: int
    max_seconds: int
    failure_window: int = 15 * 60
    history_window: int = 24 * 3600

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        """The policy the settings configure."""
        return cls(
            account_failures=settings.login_failures_before_lockout,
            address_failures=settings.address_failures_before_lockout,
            base_seconds=settings.lockout_base_seconds,
            max_seconds=settings.lockout_max_seconds,
        )

    def kind(self, key: str) -> str:
        """``<stage>:acct`` or ``<stage>:addr``, the part of ``key`` kept clear.

        Raises:
            ValueError: ``key`` is neither an account nor an address key.
        """
        stage, _, rest = key.partition(":")
        what = rest.partition(":")[0]
        if not stage or what not in ("acct", "addr"):
            raise ValueError(f"not a login guard key: {key.split(':')[:2]}")
        return f"{stage}:{what}"

    def threshold(self, key: str) -> int:
        """Failures on ``key`` that lock it."""
        if self.kind(key).endswith(":acct"):
            return self.account_failures
        return self.address_failures

    def lockout_seconds(self, earlier: int) -> float:
        """How long a lockout lasts after ``earlier`` lockouts within the day."""
        return float(min(self.base_seconds * 2 ** min(earlier, 32), self.max_seconds))


@dataclass
class _Key:
    failures: int = 0
    failures_until: float = 0.0
    locked_until: float = 0.0
    lockouts: list[float] = field(default_factory=list)


class LocalLoginGuard:
    """The in-process twin of the Redis counts (the fallback).

    Holds at most ``max_keys`` keys: past it, keys with nothing left to
    remember are dropped, then the oldest keys that are not locked and, only
    if every key is locked, the locks that end soonest.

    Args:
        policy: Thresholds and lockout durations.
        clock: Monotonic clock in seconds (tests).
        max_keys: Memory bound.
    """

    def __init__(
        self,
        policy: LockoutPolicy,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = _MAX_LOCAL_KEYS,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._max_keys = max_keys
        self._keys: dict[str, _Key] = {}
        self._in_flight: dict[str, float] = {}
        self._lock = threading.Lock()

    def blocked(self, keys: Sequence[str]) -> float | None:
        """Seconds until the longest lock among ``keys`` ends; None if none is."""
        now = self._clock()
        with self._lock:
            left = [self._keys[k].locked_until - now for k in keys if k in self._keys]
        longest = max(left, default=0.0)
        return longest if longest > 0 else None

    def failed(self, keys: Sequence[str]) -> float | None:
        """Count a failure on every key; the lockout seconds if it started one."""
        now, started = self._clock(), 0.0
        with self._lock:
            for key in keys:
                started = max(started, self._fail(key, now))
        return started or None

    def succeeded(self, keys: Sequence[str]) -> None:
        """Clear the failure counts of ``keys`` (their lockout history stays)."""
        with self._lock:
            for key in keys:
                if key in self._keys:
                    self._keys[key].failures = 0

    def begin(self, key: str) -> bool:
        """Mark an attempt on ``key`` in progress (for ``IN_FLIGHT_SECONDS`` at
        most); ``False`` if one already is."""
        now = self._clock()
        with self._lock:
            if self._in_flight.get(key, 0.0) > now:
                return False
            if len(self._in_flight) > self._max_keys:
                self._in_flight = {k: t for k, t in self._in_flight.items() if t > now}
            self._in_flight[key] = now + IN_FLIGHT_SECONDS
            return True

    def end(self, key: str) -> None:
        """The attempt on ``key`` is over."""
        with self._lock:
            self._in_flight.pop(key, None)

    def _fail(self, key: str, now: float) -> float:
        entry = self._keys.get(key)
        if entry is None:
            self._make_room(now)
            entry = self._keys[key] = _Key()
        if entry.locked_until > now:
            return 0.0
        if entry.failures_until <= now:
            entry.failures = 0
        entry.failures += 1
        entry.failures_until = now + self._policy.failure_window
        if entry.failures < self._policy.threshold(key):
            return 0.0
        day_ago = now - self._policy.history_window
        entry.lockouts = [t for t in entry.lockouts if t > day_ago]
        seconds = self._policy.lockout_seconds(len(entry.lockouts))
        entry.lockouts.append(now)
        entry.locked_until = now + seconds
        entry.failures = 0
        return seconds

    def _make_room(self, now: float) -> None:
        if len(self._keys) < self._max_keys:
            return
        day_ago = now - self._policy.history_window
        self._keys = {
            k: e
            for k, e in self._keys.items()
            if e.locked_until > now
            or (e.failures and e.failures_until > now)
            or any(t > day_ago for t in e.lockouts)
        }
        unlocked = [k for k, e in self._keys.items() if e.locked_until <= now]
        by_end = sorted(
            (k for k, e in self._keys.items() if e.locked_until > now),
            key=lambda k: self._keys[k].locked_until,
        )
        for key in unlocked + by_end:  # oldest first, then locks ending soonest
            if len(self._keys) < self._max_keys * 9 // 10:
                break
            del self._keys[key]


class LoginGuard:
    """Counts login failures in Redis, or in this process without it.

    Args:
        guard: The Redis client.
        policy: Thresholds and lockout durations.
        prefix: Key prefix (tests use their own).
        local: The fallback counts (built from ``policy`` when omitted).
    """

    def __init__(
        self,
        guard: RedisGuard,
        policy: LockoutPolicy,
        prefix: str = "assurehub:login-guard",
        local: LocalLoginGuard | None = None,
    ) -> None:
        self._guard = guard
        self._policy = policy
        self._prefix = prefix
        self._local = local or LocalLoginGuard(policy)
        self._script: Script | None = None
        self._degraded = False
        self._lock = threading.Lock()

    def blocked(self, keys: Sequence[str]) -> float | None:
        """Seconds until the longest lock among ``keys`` ends; None if none is."""
        local = self._local.blocked(keys)
        redis_keys = [self._redis_key(k, "l") for k in keys]
        try:
            ttls = self._guard.run(
                "login guard blocked", lambda r: self._ttls(r, redis_keys)
            )
        except DependencyUnavailableError as e:
            self._fell_back("blocked", keys, e)
            return local
        self._recovered()
        longest = max((ms for ms in ttls if ms > 0), default=0) / 1000
        return max(longest, local or 0.0) or None

    def failed(self, keys: Sequence[str]) -> float | None:
        """Count a failure on every key; the lockout seconds if it started one
        (the longest, when several keys were locked by it), else None."""
        thresholds = [self._policy.threshold(k) for k in keys]
        redis_keys = [
            self._redis_key(k, part) for k in keys for part in ("f", "l", "h")
        ]
        p = self._policy
        args = [p.failure_window * 1000, p.history_window * 1000]
        args += [p.base_seconds * 1000, p.max_seconds * 1000, *thresholds]
        try:
            started = self._guard.run(
                "login guard failed", lambda r: self._count(r, redis_keys, args)
            )
        except DependencyUnavailableError as e:
            self._fell_back("failed", keys, e)
            return self._local.failed(keys)
        self._recovered()
        longest = max((int(ms) for ms in started), default=0)
        return longest / 1000 if longest else None

    def succeeded(self, keys: Sequence[str]) -> None:
        """Clear the failure counts of ``keys`` (their lockout history stays)."""
        self._local.succeeded(keys)
        counts = [self._redis_key(k, "f") for k in keys]
        if not counts:
            return
        try:
            self._guard.run("login guard succeeded", lambda r: r.delete(*counts))
        except DependencyUnavailableError as e:
            self._fell_back("succeeded", keys, e)
            return
        self._recovered()

    def begin(self, key: str) -> bool:
        """Mark an attempt on ``key`` in progress, shared by every process
        through Redis (in this process when Redis is unreachable); ``False``
        if one already is."""
        marker = self._redis_key(key, "a")
        try:
            taken = self._guard.run(
                "login guard begin",
                lambda r: r.set(marker, b"1", nx=True, px=IN_FLIGHT_SECONDS * 1000),
            )
        except DependencyUnavailableError as e:
            self._fell_back("begin", [key], e)
            return self._local.begin(key)
        self._recovered()
        return bool(taken)

    def end(self, key: str) -> None:
        """The attempt on ``key`` is over."""
        self._local.end(key)
        marker = self._redis_key(key, "a")
        try:
            self._guard.run("login guard end", lambda r: r.delete(marker))
        except DependencyUnavailableError as e:
            self._fell_back("end", [key], e)

    def _redis_key(self, key: str, part: str) -> str:
        kind = self._policy.kind(key)
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return f"{self._prefix}:{kind}:{part}:{digest}"

    @staticmethod
    def _ttls(client: redis.Redis[bytes], keys: list[str]) -> list[int]:
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.pttl(key)
        return [int(ms) for ms in pipe.execute()]

    def _count(
        self, client: redis.Redis[bytes], keys: list[str], args: list[int]
    ) -> list[int]:
        if self._script is None:
            self._script = client.register_script(_FAILED)
        return [int(ms) for ms in self._script(keys=keys, args=args, client=client)]

    def _fell_back(
        self, operation: str, keys: Sequence[str], error: DependencyUnavailableError
    ) -> None:
        with self._lock:
            first, self._degraded = not self._degraded, True
        if first:
            log.warning(
                "login guard counting in this process: redis unavailable; "
                "limits are per process until it is back",
                extra={
                    "operation": operation,
                    "key_kinds": sorted({self._policy.kind(k) for k in keys}),
                    "error": error.detail,
                },
            )

    def _recovered(self) -> None:
        with self._lock:
            was, self._degraded = self._degraded, False
        if was:
            log.info("login guard counting in redis again")
