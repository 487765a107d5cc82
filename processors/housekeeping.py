"""Scheduled housekeeping: purging expired Idempotency-Key answers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from infra.postgres.idempotency import purge_idempotency_keys
from infra.postgres.pool import Database

log = logging.getLogger(__name__)


def run_housekeeping(
    stop: threading.Event,
    database: Database,
    retention: timedelta,
    interval_seconds: float,
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Purge once per interval until ``stop`` is set."""
    while not stop.is_set():
        beat()
        try:
            purged = purge_idempotency_keys(database, retention)
            if purged:
                log.info("idempotency answers purged", extra={"count": purged})
        except Exception:
            log.exception("housekeeping failed; retrying next interval")
        stop.wait(interval_seconds)
