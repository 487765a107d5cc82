"""One progress watcher answers every waiting request with one read per tick."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from infra.postgres.progress import ProgressSnapshot
from infra.projection.progress_watcher import ProgressWatcher
from read_api.consistency import wait_for_projection
from read_api.problems import ReadModelBehindError


class SteppingProgress:
    """In-memory twin: each read finds projection "p" one position further
    (one partition, relay ahead); counts the reads."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.reads = 0
        self.fail = fail

    def snapshot(self) -> ProgressSnapshot:
        self.reads += 1
        if self.fail is not None:
            raise self.fail
        return ProgressSnapshot(100, {0: 100}, {("p", 0): self.reads})


def test_many_waiters_share_one_read_per_tick():
    source = SteppingProgress()

    async def scenario():
        watcher = ProgressWatcher(source, interval=0)
        waits = [watcher.wait("p", 1 + i % 5, timeout=30) for i in range(200)]
        woken = await asyncio.gather(*waits)
        await watcher.close()
        return woken

    assert asyncio.run(scenario()) == [True] * 200
    # Reads 1..5 reached positions 1..5: five reads for 200 waiters.
    assert source.reads == 5


def test_nothing_is_read_while_nobody_waits():
    source = SteppingProgress()

    async def scenario():
        watcher = ProgressWatcher(source, interval=0)
        await asyncio.sleep(0.05)
        before = source.reads
        assert await watcher.wait("p", 2, timeout=30)
        after = source.reads
        await asyncio.sleep(0.05)  # the poller has stopped: no more reads
        await watcher.close()
        return before, after, source.reads

    assert asyncio.run(scenario()) == (0, 2, 2)


def test_a_position_not_reached_in_time_is_a_timeout_not_a_yes():
    source = SteppingProgress()

    async def scenario():
        watcher = ProgressWatcher(source, interval=0.01)
        reached = await watcher.wait("other", 1, timeout=0.1)
        await watcher.close()
        return reached

    assert asyncio.run(scenario()) is False
    assert source.reads >= 1


def test_each_partition_must_have_applied_what_it_holds_up_to_the_position():
    snapshot = ProgressSnapshot(10, {0: 10, 1: 7}, {("p", 0): 10, ("p", 1): 5})
    assert not snapshot.reached("p", 7)  # partition 1 may still owe 6 or 7
    assert snapshot.reached("p", 5)
    assert not snapshot.reached("p", 11)  # not published yet
    assert not snapshot.reached("q", 1)  # nothing applied by "q"


def test_a_failed_read_reaches_the_waiters():
    source = SteppingProgress(fail=RuntimeError("database unreachable"))

    async def scenario():
        watcher = ProgressWatcher(source, interval=0)
        try:
            await asyncio.gather(*(watcher.wait("p", 1, timeout=30) for _ in range(3)))
        finally:
            await watcher.close()

    with pytest.raises(RuntimeError, match="database unreachable"):
        asyncio.run(scenario())
    assert source.reads == 1


def test_close_stops_the_poller_and_cancels_waiters():
    source = SteppingProgress()

    async def scenario():
        watcher = ProgressWatcher(source, interval=0.01)
        waiting = asyncio.ensure_future(watcher.wait("never", 1, timeout=30))
        await asyncio.sleep(0.05)
        await watcher.close()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        reads = source.reads
        await asyncio.sleep(0.05)
        return reads

    assert asyncio.run(scenario()) == source.reads


def test_a_query_whose_projection_stays_behind_gets_read_model_behind():
    source = SteppingProgress()  # "p" advances, "audits" never applies anything
    watcher = ProgressWatcher(source, interval=0.01)
    container = SimpleNamespace(
        settings=SimpleNamespace(read_wait_seconds=0.1),
        event_store=SimpleNamespace(head=lambda: 100),
    )
    state = SimpleNamespace(container=container, progress_watcher=watcher)
    request = SimpleNamespace(app=SimpleNamespace(state=state))

    async def scenario():
        try:
            await wait_for_projection(request, "audits", 50)  # type: ignore[arg-type]
        finally:
            await watcher.close()

    with pytest.raises(ReadModelBehindError) as raised:
        asyncio.run(scenario())
    assert (raised.value.projection, raised.value.position) == ("audits", 50)
