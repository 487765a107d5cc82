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

from collections.abc import Iterator
from contextlib import contextmanager

from commands.identity.crypto import LoginGuard
from commands.identity.errors import LockedOutError


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
