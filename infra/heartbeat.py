"""Liveness of the workers that serve no HTTP endpoint (relay, projectors,
processors): each loop iteration touches a file; a healthcheck reads its age.

A worker stuck in a loop (or dead) stops touching it; one waiting on a down
dependency keeps beating between retries, so "alive" stays distinct from
"ready", as for the API.
"""

from __future__ import annotations

import time
from pathlib import Path

STALE_AFTER_SECONDS = 60.0


class Heartbeat:
    """A file whose modification time says the worker is looping."""

    def __init__(self, directory: Path, worker: str) -> None:
        self.path = directory / f"{worker}.heartbeat"
        self._last = 0.0

    def beat(self) -> None:
        """Touch the file (at most once a second)."""
        now = time.monotonic()
        if now - self._last < 1.0:
            return
        self._last = now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()

    def is_fresh(self, max_age: float = STALE_AFTER_SECONDS) -> bool:
        """Whether the worker beat within ``max_age`` seconds."""
        try:
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return False
        return age <= max_age
