"""A minimum answer time for anonymous refusals.

A refused login for an existing account records a security event; one for
an unknown e-mail has nothing to record. A password-reset request for an
existing account writes an event and an e-mail; for an unknown one, nothing.
The answers are identical, but their durations would differ by those writes,
so these answers are held back until a floor has passed since the request
began (the argon2 check that both paths spend is most of it already).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

FLOOR_SECONDS = 0.5
"""Longer than an argon2 check plus the writes on this kind of machine."""

T = TypeVar("T")


async def with_floor(
    call: Callable[[], T],
    *,
    pad: Callable[[BaseException | None], bool],
    floor: float = FLOOR_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``call`` in a worker thread; if ``pad(error or None)`` says so,
    answer (or raise) no sooner than ``floor`` seconds after starting."""
    started = clock()
    try:
        result = await run_in_threadpool(call)
    except Exception as e:
        await _wait(pad(e), started, floor, clock, sleep)
        raise
    await _wait(pad(None), started, floor, clock, sleep)
    return result


async def _wait(
    needed: bool,
    started: float,
    floor: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    left = floor - (clock() - started)
    if needed and left > 0:
        await sleep(left)
