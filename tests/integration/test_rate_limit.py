"""Attempt limits counted in real Redis, and in-process when Redis is down."""

from __future__ import annotations

import time
import uuid

import pytest

from infra.cache.rate_limit import (
    Limit,
    LocalWindows,
    RateLimiter,
    VerificationLimits,
)
from infra.cache.redis import RedisGuard
from tests.e2e.conftest import closed_port


@pytest.fixture
def redis_url(settings) -> str:
    return settings.redis_url


def limiter(url: str, prefix: str | None = None, **local) -> RateLimiter:
    return RateLimiter(
        RedisGuard(url),
        prefix=prefix or f"test:rl:{uuid.uuid4().hex}",
        local=LocalWindows(**local),
    )


def down() -> str:
    return f"redis://127.0.0.1:{closed_port()}/0"


def test_attempts_beyond_the_limit_are_refused_with_a_retry_after(redis_url):
    limit, rl = Limit("login", 3, 60), limiter(redis_url)
    assert [rl.hit(limit, "10.0.0.1").allowed for _ in range(3)] == [True] * 3
    refused = rl.hit(limit, "10.0.0.1")
    assert not refused.allowed
    assert 1 <= refused.retry_after <= 60
    assert rl.hit(limit, "10.0.0.2").allowed  # another subject has its own count


def test_api_processes_share_the_count_in_redis(redis_url):
    prefix, limit = f"test:rl:{uuid.uuid4().hex}", Limit("shared", 2, 60)
    one, two = limiter(redis_url, prefix), limiter(redis_url, prefix)
    assert one.hit(limit, "x").allowed
    assert two.hit(limit, "x").allowed
    assert not one.hit(limit, "x").allowed
    assert not two.hit(limit, "x").allowed


def test_a_new_window_allows_attempts_again(redis_url):
    limit, rl = Limit("short", 2, 1), limiter(redis_url)
    assert rl.hit(limit, "s").allowed
    assert rl.hit(limit, "s").allowed
    refused = rl.hit(limit, "s")
    assert (refused.allowed, refused.retry_after) == (False, 1)
    time.sleep(1.1)
    assert rl.hit(limit, "s").allowed


def test_with_redis_down_this_process_still_limits():
    now = [1000.0]
    rl = limiter(down(), clock=lambda: now[0])
    limit = Limit("fallback", 3, 60)
    assert [rl.hit(limit, "a").allowed for _ in range(4)] == [True] * 3 + [False]
    now[0] += 15
    assert rl.hit(limit, "a").retry_after == 45
    assert rl.hit(limit, "b").allowed
    now[0] += 46
    assert rl.hit(limit, "a").allowed


def test_verification_counts_per_address_and_per_number(redis_url):
    limits = VerificationLimits(limiter(redis_url), per_address=3, per_number=4)
    assert all(limits.check("10.1.1.1", "N-1").allowed for _ in range(3))
    address_refused = limits.check("10.1.1.1", "N-1")
    assert not address_refused.allowed
    assert address_refused.retry_after <= 60
    # the refused attempt did not count against the number: one left for it
    assert limits.check("10.1.1.2", "N-1").allowed
    number_refused = limits.check("10.1.1.3", "N-1")
    assert not number_refused.allowed
    assert 60 < number_refused.retry_after <= 3600
    assert limits.check("10.1.1.3", "N-2").allowed
