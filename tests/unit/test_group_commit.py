"""Group commit without a database: who writes which batch, and who learns
which outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from infra.eventstore.group_commit import GroupCommit, Pending


class Writer:
    """Records each batch; fails the items named ``bad``; raises for a batch
    holding ``boom``; the first batch waits for ``release``."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, batch: Sequence[Pending[str, str]]) -> None:
        self.entered.set()
        self.release.wait(timeout=10)
        self.batches.append([p.item for p in batch])
        if any(p.item == "boom" for p in batch):
            raise ConnectionError("lost")
        for p in batch:
            if p.item == "bad":
                p.fail(ValueError(p.item))
            else:
                p.succeed(p.item.upper())


def submit_all(
    group: GroupCommit[str, str], items: list[str], writer: Writer
) -> dict[str, object]:
    """Submit ``items`` from one thread each, in this order; once the first
    is being written (unless the writer is already released)."""
    outcomes: dict[str, object] = {}

    def submit(item: str) -> None:
        try:
            outcomes[item] = group.submit(item)
        except Exception as e:
            outcomes[item] = e

    threads = [threading.Thread(target=submit, args=(i,)) for i in items]
    for n, t in enumerate(threads):
        t.start()
        if n == 0 and not writer.release.is_set():
            assert writer.entered.wait(timeout=10)
        time.sleep(0.01)  # queued in this order while the first batch waits
    outcomes["_threads"] = threads
    return outcomes


def finish(outcomes: dict[str, object]) -> dict[str, object]:
    threads = outcomes.pop("_threads")
    assert isinstance(threads, list)
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive()
    return outcomes


def test_appends_queued_while_a_batch_is_written_form_the_next_batch():
    writer = Writer()
    group: GroupCommit[str, str] = GroupCommit(writer)
    pending = submit_all(group, ["a", "b", "c", "d"], writer)
    writer.release.set()
    outcomes = finish(pending)

    assert writer.batches == [["a"], ["b", "c", "d"]]
    assert outcomes == {"a": "A", "b": "B", "c": "C", "d": "D"}


def test_an_append_the_writer_fails_fails_alone():
    writer = Writer()
    writer.release.set()
    group: GroupCommit[str, str] = GroupCommit(writer)
    outcomes = finish(submit_all(group, ["a", "bad", "c"], writer))

    assert outcomes["a"] == "A"
    assert outcomes["c"] == "C"
    assert isinstance(outcomes["bad"], ValueError)


def test_what_the_writer_raises_fails_every_append_of_its_batch():
    writer = Writer()
    group: GroupCommit[str, str] = GroupCommit(writer)
    pending = submit_all(group, ["first", "x", "boom", "y"], writer)
    writer.release.set()
    outcomes = finish(pending)

    assert outcomes["first"] == "FIRST"
    for item in ("x", "boom", "y"):
        error = outcomes[item]
        assert isinstance(error, ConnectionError)
        assert error.args == ("lost",)
    assert outcomes["x"] is not outcomes["y"], "each thread raises its own copy"


def test_a_batch_holds_at_most_max_batch_appends():
    writer = Writer()
    group: GroupCommit[str, str] = GroupCommit(writer, max_batch=2)
    pending = submit_all(group, ["a", "b", "c", "d", "e"], writer)
    writer.release.set()
    finish(pending)

    assert writer.batches == [["a"], ["b", "c"], ["d", "e"]]


def test_one_append_alone_is_written_at_once():
    writer = Writer()
    writer.release.set()
    group: GroupCommit[str, str] = GroupCommit(writer)
    assert group.submit("solo") == "SOLO"
    with pytest.raises(ValueError, match="bad"):
        group.submit("bad")
    assert writer.batches == [["solo"], ["bad"]]
