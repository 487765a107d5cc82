"""One progress poller per API process, shared by every read-your-writes wait.

A query with ``min_position`` waits until its projection has reached that
position. Polling per request costs one query per waiting request per check;
here every waiting request registers with one :class:`ProgressWatcher`, whose
single background task reads the relay's and every projection's progress in
one query per tick (:meth:`ProjectionProgress.snapshot`) and wakes the
waiters whose position is reached. The task starts with the first waiter,
ends when nobody waits, and :meth:`ProgressWatcher.close` stops it on
shutdown. The rule for "reached" is :class:`ProgressSnapshot.reached`, read
fresh for each tick, so a waiter is never woken too early.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Protocol

from infra.postgres.progress import ProgressSnapshot

DEFAULT_INTERVAL = 0.005
"""Seconds between two reads while someone waits: bounds the added latency
(half of it on average) and the query rate (at most 200 per second)."""


class ProgressSource(Protocol):
    """Where the watcher reads progress (:class:`ProjectionProgress`)."""

    def snapshot(self) -> ProgressSnapshot:
        """The relay's and every projection's progress, read at once."""
        ...


@dataclass(eq=False)
class _Waiter:
    projection: str
    position: int
    future: asyncio.Future[None] = field(repr=False)


class ProgressWatcher:
    """Wakes waiting requests when their projection reaches their position.

    Bound to the event loop of its first waiter (one per app; uvicorn runs
    one loop per process). Nothing runs until someone waits.
    """

    def __init__(
        self, source: ProgressSource, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self._source = source
        self._interval = interval
        self._waiters: set[_Waiter] = set()
        self._task: asyncio.Task[None] | None = None
        self._relayed = 0

    @property
    def relayed(self) -> int:
        """The relay's position at the latest read (0 before any): every
        position up to it is a stored event."""
        return self._relayed

    async def wait(self, projection: str, position: int, timeout: float) -> bool:
        """Wait until ``projection`` reached ``position``; False after ``timeout``
        seconds without. A failed read is raised to every waiter of its tick."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(projection, position, loop.create_future())
        self._waiters.add(waiter)
        try:
            self._start(loop)
            await asyncio.wait_for(waiter.future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)

    async def close(self) -> None:
        """Stop the poller; requests still waiting are cancelled."""
        task, self._task = self._task, None
        for waiter in self._waiters:
            waiter.future.cancel()
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._task is not None and not self._task.done():
            if self._task.get_loop() is not loop:
                raise RuntimeError("a ProgressWatcher serves one event loop")
            return
        self._task = loop.create_task(self._poll(), name="progress-watcher")

    async def _poll(self) -> None:
        while self._waiters:
            try:
                snapshot = await asyncio.to_thread(self._source.snapshot)
            except Exception as e:  # each waiter of this tick sees the error
                self._settle(None, e)
            else:
                self._relayed = max(self._relayed, snapshot.relayed)
                self._settle(snapshot, None)
            if self._waiters:
                await asyncio.sleep(self._interval)

    def _settle(
        self, snapshot: ProgressSnapshot | None, error: Exception | None
    ) -> None:
        """Wake (or fail) the waiters this tick answers; forget them."""
        for waiter in list(self._waiters):
            if waiter.future.done():  # timed out or cancelled meanwhile
                pass
            elif error is not None:
                waiter.future.set_exception(error)
            elif snapshot is not None and snapshot.reached(
                waiter.projection, waiter.position
            ):
                waiter.future.set_result(None)
            else:
                continue
            self._waiters.discard(waiter)
