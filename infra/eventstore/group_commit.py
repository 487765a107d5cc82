"""Group commit: concurrent appends of one process share one transaction.

Threads hand their append to :meth:`GroupCommit.submit` and wait. One of
them at a time (the leader: whichever takes the turn first) writes every
append queued so far, up to ``max_batch``, in one call of the writer it was
built with, and hands each waiting thread its own outcome; appends queued
while a batch is being written form the next batch. With one writer there is
nothing to gather and each append is a batch of one, written at once.

The writer decides each append's outcome separately (the recorder gives each
its own savepoint, so one append's conflict fails that append alone). What
the writer raises instead of deciding, it raises for every append of the
batch still undecided: a connection lost or a commit refused fails them all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 64
"""Appends written in one transaction at most: bounds how long the events
table's lock is held for one batch."""


class Pending(Generic[T, R]):
    """One submitted append and, once written, its outcome."""

    __slots__ = ("_error", "_result", "done", "item")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self._result: R | None = None
        self._error: BaseException | None = None

    def succeed(self, result: R) -> None:
        """Record the append's result (it committed)."""
        self._result, self.done = result, True

    def fail(self, error: BaseException) -> None:
        """Record why the append was not written."""
        self._error, self.done = error, True

    def outcome(self) -> R:
        """The result, or raise the error (a copy, when the batch shared it)."""
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]


Writer = Callable[[Sequence[Pending[T, R]]], None]
"""Writes a batch and decides every append's outcome (``succeed``/``fail``)."""


class GroupCommit(Generic[T, R]):
    """Gathers concurrent submissions into batches for one writer at a time."""

    def __init__(self, write: Writer[T, R], max_batch: int = MAX_BATCH) -> None:
        self._write = write
        self._max_batch = max_batch
        self._queue: list[Pending[T, R]] = []
        self._queue_lock = threading.Lock()
        self._turn = threading.Lock()

    def submit(self, item: T) -> R:
        """Write ``item`` (in a batch with whatever else is queued) and return
        its result, or raise its error."""
        pending: Pending[T, R] = Pending(item)
        with self._queue_lock:
            self._queue.append(pending)
        while not pending.done:
            with self._turn:
                if pending.done:
                    break
                with self._queue_lock:
                    batch = self._queue[: self._max_batch]
                    del self._queue[: self._max_batch]
                self._write_all(batch)
        return pending.outcome()

    def _write_all(self, batch: Sequence[Pending[T, R]]) -> None:
        try:
            self._write(batch)
        except BaseException as e:
            for pending in batch:
                if not pending.done:
                    pending.fail(_copy(e))
            if not isinstance(e, Exception):  # an interrupt stops the leader too
                raise
            return
        for pending in batch:
            if not pending.done:  # pragma: no cover - a writer's defect
                pending.fail(AssertionError("the writer left an append undecided"))


def _copy(error: BaseException) -> BaseException:
    """A copy of a batch-wide error for each thread raising it (one object
    raised in many threads would gather all their tracebacks)."""
    try:
        copied = type(error)(*error.args)
    except Exception:  # an exception class with another signature
        return error
    copied.__cause__ = error.__cause__ or error
    return copied
