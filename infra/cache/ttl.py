"""A lookup remembered for a few seconds per key, in this process.

For reads the edge makes on every request whose answer changes rarely and
may be seen a little late (an auditor's team audits, a tenant's MFA policy).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MAX_KEYS = 10_000


class TtlCache(Generic[K, V]):
    """``lookup(key)``, remembered for ``ttl`` seconds per key (at most
    ``max_keys`` keys; past that the memory starts over)."""

    def __init__(
        self,
        lookup: Callable[[K], V],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = _MAX_KEYS,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._max_keys = max_keys
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def __call__(self, key: K) -> V:
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        value = self._lookup(key)
        with self._lock:
            if len(self._entries) >= self._max_keys:
                self._entries.clear()
            self._entries[key] = (now, value)
        return value
