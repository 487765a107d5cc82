"""Anonymous refusals are held back to a floor, so that the work done only
for existing accounts does not show in the answer time (a fake clock: no
timing in the test)."""

from __future__ import annotations

import asyncio

import pytest

from commands.http.answer_floor import with_floor


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def run(call, pad, fake: FakeTime, floor: float = 0.5):
    return asyncio.run(
        with_floor(call, pad=pad, floor=floor, clock=fake.clock, sleep=fake.sleep)
    )


def test_a_quick_refusal_waits_out_the_floor_and_still_raises():
    fake = FakeTime()

    def refuse() -> None:
        fake.now += 0.1  # the work took 0.1 s
        raise PermissionError("no")

    with pytest.raises(PermissionError):
        run(refuse, lambda error: error is not None, fake)
    assert fake.slept == [pytest.approx(0.4)]


def test_an_answer_that_needs_no_floor_is_not_held_back():
    fake = FakeTime()
    assert run(lambda: "tokens", lambda error: error is not None, fake) == "tokens"
    assert fake.slept == []


def test_work_longer_than_the_floor_adds_no_wait():
    fake = FakeTime()

    def slow() -> str:
        fake.now += 0.7
        return "accepted"

    assert run(slow, lambda error: error is None, fake) == "accepted"
    assert fake.slept == []
