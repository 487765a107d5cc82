"""A reader tailing the log while writers append, for the no-gap tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def tail_while_writing(
    read_after: Callable[[int], Sequence[T]],
    position_of: Callable[[T], int],
    start: int,
    write: Callable[[int], Any],
    writers: int,
) -> list[T]:
    """What a reader asking ``read_after(last position seen)`` in a loop got
    while ``writers`` threads ran ``write(n)``, until it found nothing more
    once they had all finished."""
    done = threading.Event()
    seen: list[T] = []
    errors: list[BaseException] = []

    def tail() -> None:
        last = start
        try:
            while True:
                finished = done.is_set()
                batch = read_after(last)
                seen.extend(batch)
                if batch:
                    last = position_of(batch[-1])
                elif finished:
                    return
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    reader = threading.Thread(target=tail)
    reader.start()
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    reader.join(timeout=60)
    assert not errors, errors
    assert not reader.is_alive()
    return seen
