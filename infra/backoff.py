"""Exponential backoff and polling for the long-running workers, interruptible
by stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception_type,
    stop_when_event_set,
    wait_exponential,
)

F = TypeVar("F", bound=Callable[..., Any])


def until_stopped(
    stop: threading.Event,
    retry_on: tuple[type[BaseException], ...],
    before_sleep: Callable[[RetryCallState], None],
) -> Callable[[F], F]:
    """Retry on ``retry_on`` with backoff (0.2 s doubling to 10 s) until
    ``stop`` is set; a pending backoff ends as soon as it is."""

    def pause(seconds: float) -> None:
        stop.wait(seconds)

    return retry(  # type: ignore[return-value]
        retry=retry_if_exception_type(retry_on),
        wait=wait_exponential(multiplier=0.2, max=10),
        stop=stop_when_event_set(stop),
        sleep=pause,
        before_sleep=before_sleep,
        reraise=True,
    )


def poll(
    stop: threading.Event,
    work: Callable[[], bool],
    interval_seconds: float,
    beat: Callable[[], None],
    log: logging.Logger,
    failed: str,
) -> None:
    """Call ``work`` until ``stop`` is set: again at once when it answers that
    it was busy, else after ``interval_seconds``. A failure is logged as
    ``failed`` (unless stopping, e.g. amid an outage) and retried after the
    interval."""
    while not stop.is_set():
        beat()
        try:
            busy = work()
        except Exception:
            if not stop.is_set():
                log.exception(failed)
            busy = False
        if not busy:
            stop.wait(interval_seconds)
