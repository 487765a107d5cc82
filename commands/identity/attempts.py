"""One attempt at a time per account: what makes lockouts exact.

A lockout counts failures after each password or code check. Parallel
guesses would all pass the "is it locked?" check before any of their
failures is counted, so an attacker sending 40 guesses at once would have
all 40 checked. Holding the account's key for the duration of one attempt
refuses the others (``429``, retry in a second): at most one guess per
account is being checked at any moment, and every failure is counted before
the next guess is looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from commands.identity.crypto import LoginGuard
from commands.identity.errors import LockedOutError

T = TypeVar("T")


@contextmanager
def one_attempt(guard: LoginGuard, key: str) -> Iterator[None]:
    """Run the attempt on ``key`` alone.

    Raises:
        LockedOutError: another attempt on ``key`` is in progress (retry in 1 s).
    """
    if not guard.begin(key):
        raise LockedOutError(1)
    try:
        yield
    finally:
        guard.end(key)


def guarded_check(
    guard: LoginGuard,
    key: str,
    check: Callable[[], T | None],
    refusal: Callable[[], Exception],
) -> T:
    """Run ``check`` (a password or code check; ``None`` means wrong) as the
    only attempt on ``key``, refused while the key is locked, a wrong answer
    counted toward its lockout and a right one clearing the count.

    Raises:
        LockedOutError: ``key`` is locked, being tried, or this failure
            locked it.
        Exception: ``refusal()`` for a wrong answer that locked nothing.
    """
    with one_attempt(guard, key):
        wait = guard.blocked([key])
        if wait is not None:
            raise LockedOutError(wait)
        result = check()
        if result is None:
            lock = guard.failed([key])
            raise LockedOutError(lock) if lock is not None else refusal()
        guard.succeeded([key])
        return result
