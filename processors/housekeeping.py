"""Scheduled housekeeping: purging expired Idempotency-Key answers, and
blanking the bodies of outbox messages given up past their retention (they
may carry single-use tokens)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from infra.postgres.idempotency import purge_idempotency_keys
from infra.postgres.outbox import PostgresOutbox
from infra.postgres.pool import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chore:
    """One housekeeping task: ``run`` returns how many rows it cleared,
    logged as ``done`` when there were any."""

    done: str
    run: Callable[[], int]


def chores(
    database: Database,
    outbox: PostgresOutbox,
    idempotency_retention: timedelta,
    outbox_retention: timedelta,
) -> list[Chore]:
    """The housekeeping the processors run."""
    return [
        Chore(
            "idempotency answers purged",
            partial(purge_idempotency_keys, database, idempotency_retention),
        ),
        Chore(
            "bodies of given-up messages blanked",
            partial(outbox.blank_given_up, outbox_retention),
        ),
    ]


def run_housekeeping(
    stop: threading.Event,
    tasks: Sequence[Chore],
    interval_seconds: float,
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Run every chore once per interval until ``stop`` is set; one that
    fails is retried next interval and does not hold up the others."""
    while not stop.is_set():
        beat()
        for chore in tasks:
            try:
                cleared = chore.run()
                if cleared:
                    log.info(chore.done, extra={"count": cleared})
            except Exception:
                log.exception("housekeeping failed; retrying next interval")
        stop.wait(interval_seconds)
