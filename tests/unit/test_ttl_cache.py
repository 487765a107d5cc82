"""A lookup remembered per key for a while (a clock we move)."""

from __future__ import annotations

from infra.cache.ttl import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Lookup:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, key: str) -> int:
        self.asked.append(key)
        return len(self.asked)


def test_an_answer_is_remembered_per_key_until_its_time_is_up():
    clock, lookup = Clock(), Lookup()
    cache: TtlCache[str, int] = TtlCache(lookup, ttl=5, clock=clock)

    assert cache("a") == 1
    assert cache("a") == 1
    assert cache("b") == 2
    clock.now = 5.0
    assert cache("a") == 3
    assert lookup.asked == ["a", "b", "a"]


def test_memory_is_bounded():
    lookup = Lookup()
    cache: TtlCache[str, int] = TtlCache(lookup, ttl=60, clock=Clock(), max_keys=2)
    for key in ("a", "b", "c", "a"):
        cache(key)
    assert lookup.asked == ["a", "b", "c", "a"]  # "a" was forgotten when "c" came
