"""The lockout rules, run by the in-process twin with a clock we move."""

from __future__ import annotations

import pytest

from infra.identity.login_guard import IN_FLIGHT_SECONDS, LocalLoginGuard, LockoutPolicy
from infra.settings import Settings

ACCT = "login:acct:acme-cert:ann@example.com"
ADDR = "login:addr:10.0.0.1"
POLICY = LockoutPolicy(
    account_failures=3, address_failures=5, base_seconds=30, max_seconds=100
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guard(clock) -> LocalLoginGuard:
    return LocalLoginGuard(POLICY, clock=clock)


def fail(guard: LocalLoginGuard, times: int, keys=(ACCT,)) -> list[float | None]:
    return [guard.failed(list(keys)) for _ in range(times)]


def test_the_threshold_failure_locks_the_account_for_the_base_time(guard, clock):
    assert fail(guard, 2) == [None, None]
    assert guard.blocked([ACCT]) is None

    assert guard.failed([ACCT]) == 30
    assert guard.blocked([ACCT]) == 30
    clock.now += 29
    assert guard.blocked([ACCT]) == pytest.approx(1)
    clock.now += 1
    assert guard.blocked([ACCT]) is None


def test_each_lockout_within_a_day_doubles_the_next_up_to_the_cap(guard, clock):
    lockouts = []
    for _ in range(4):
        lockouts.append(fail(guard, 3)[-1])
        clock.now += guard.blocked([ACCT]) or 0
    assert lockouts == [30, 60, 100, 100]


def test_lockouts_older_than_a_day_no_longer_lengthen_the_next(guard, clock):
    assert fail(guard, 3)[-1] == 30
    clock.now += 3600
    assert fail(guard, 3)[-1] == 60
    clock.now += 24 * 3600 - 3000  # only the first lockout is over a day old
    assert fail(guard, 3)[-1] == 60
    clock.now += 24 * 3600 + 1  # now every earlier lockout is
    assert fail(guard, 3)[-1] == 30


def test_the_count_restarts_after_a_lockout(guard, clock):
    fail(guard, 3)
    clock.now += 30
    assert fail(guard, 2) == [None, None]
    assert guard.blocked([ACCT]) is None


def test_failures_are_forgotten_fifteen_minutes_after_the_last_one(guard, clock):
    guard.failed([ACCT])
    clock.now += 14 * 60
    assert guard.failed([ACCT]) is None  # the second failure renews the count
    clock.now += 14 * 60
    assert guard.failed([ACCT]) == 30
    clock.now += 30
    fail(guard, 2)
    clock.now += 15 * 60
    assert guard.failed([ACCT]) is None


def test_failures_while_locked_neither_count_nor_lengthen_the_lock(guard, clock):
    fail(guard, 3)
    assert fail(guard, 5) == [None] * 5
    clock.now += 30
    assert guard.blocked([ACCT]) is None
    assert fail(guard, 2) == [None, None]


def test_a_success_clears_the_count_but_not_the_lockout_history(guard, clock):
    fail(guard, 2)
    guard.succeeded([ACCT])
    assert fail(guard, 2) == [None, None]
    assert guard.failed([ACCT]) == 30
    clock.now += 30
    guard.succeeded([ACCT])
    assert fail(guard, 3)[-1] == 60


def test_an_address_has_its_own_higher_threshold(guard, clock):
    other = "login:acct:acme-cert:bob@example.com"
    assert fail(guard, 2, (ACCT, ADDR)) == [None, None]
    assert fail(guard, 2, (other, ADDR)) == [None, None]
    assert guard.blocked([ACCT, ADDR]) is None
    assert guard.failed([other, ADDR]) == 30  # bob's third, the address's fifth
    assert guard.blocked([ADDR]) == 30
    assert guard.blocked([ACCT]) is None
    assert guard.blocked([ACCT, ADDR]) == 30


def test_blocked_answers_the_longest_lock_among_the_keys(guard, clock):
    fail(guard, 3)
    clock.now += 30
    fail(guard, 3)  # second lockout: 60 s
    fail(guard, 5, ("otp:addr:10.0.0.9",))  # 30 s
    assert guard.blocked(["otp:addr:10.0.0.9", ACCT]) == 60


def test_otp_keys_of_an_account_use_the_account_threshold(guard):
    assert fail(guard, 3, ("otp:acct:6f1c",)) == [None, None, 30]


def test_keys_that_name_neither_account_nor_address_are_refused(guard):
    with pytest.raises(ValueError, match="not a login guard key"):
        guard.failed(["login:user:ann"])


def test_memory_stays_bounded_and_keeps_locks_over_stale_counts(clock):
    guard = LocalLoginGuard(POLICY, clock=clock, max_keys=10)
    fail(guard, 3)  # ACCT locked
    for i in range(50):
        guard.failed([f"login:acct:t:user{i}@example.com"])
    assert len(guard._keys) <= 10
    assert guard.blocked([ACCT]) == 30


def test_the_policy_comes_from_the_settings():
    settings = Settings(
        database_url="postgresql://u:p@127.0.0.1:1/db",
        login_failures_before_lockout=4,
        address_failures_before_lockout=40,
        lockout_base_seconds=10,
        lockout_max_seconds=600,
    )
    policy = LockoutPolicy.from_settings(settings)
    assert (policy.threshold(ACCT), policy.threshold(ADDR)) == (4, 40)
    assert [policy.lockout_seconds(n) for n in (0, 1, 6, 60)] == [10, 20, 600, 600]


def test_one_attempt_at_a_time_per_key_until_it_ends_or_its_hold_expires(guard, clock):
    assert guard.begin(ACCT)
    assert not guard.begin(ACCT)
    assert guard.begin("login:acct:t:other@example.com")
    guard.end(ACCT)
    assert guard.begin(ACCT)
    clock.now += IN_FLIGHT_SECONDS + 0.1  # a crashed request frees its key
    assert guard.begin(ACCT)
