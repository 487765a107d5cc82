"""A rebuild's folds split over two processes, to use a second core.

Every projection of a rebuild folds the same events, and one of them (the
audits read model) costs more than all the others together, so a rebuild of
all of them on one core takes the sum of their folds. Here the folds are
split in two after the first page: the parent times each fold's share of
that page, keeps the heaviest group (:func:`split`) and forks a child that
goes on with the other group from where the page ended. The child reads and
decodes the events again on its own connection (decoding costs less than a
fold of the heavy group), folds them, COPYs each of its folds into its fresh
tables (:meth:`Rebuilder._load`, committed) and sends back what the parent
needs to catch them up and swap them: the last position it read and each
fold's count, parked events and waiting subjects (:class:`Outcome`). It never
touches the parent's pool or sockets, and leaves with ``os._exit`` so that
nothing the parent owns is closed or flushed from the child.

The rows are those a one-process fold makes: each fold sees every event in
position order either way, and the parent catches each fold up from the
position its own reader stopped at.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing.persistence import Notification
from psycopg import sql

from infra.eventstore.store import EVENTS_TABLE
from infra.postgres.dead_letters import DeadLetter
from infra.postgres.pool import Connection
from infra.projection.memory_fold import FoldHaltedError, MemoryFold
from projections.envelope import EventEnvelope

_PAGE = sql.SQL(
    "SELECT notification_id, originator_id, originator_version, topic, state"
    " FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
).format(sql.Identifier(EVENTS_TABLE))


def read_page(conn: Connection, after: int, limit: int) -> list[Notification]:
    """Up to ``limit`` stored events after ``after``, in position order."""
    rows = conn.execute(_PAGE, (after, limit), binary=True).fetchall()
    return [
        Notification(
            id=row[0],
            originator_id=row[1],
            originator_version=row[2],
            topic=row[3],
            state=bytes(row[4]),
        )
        for row in rows
    ]


def timed_apply(
    folds: Sequence[MemoryFold],
    events: Iterable[EventEnvelope],
    failed: dict[str, BaseException],
) -> tuple[int, int, list[float]]:
    """Fold ``events`` into every fold not in ``failed``, timing each fold:
    (last position, events read, seconds per fold)."""
    costs = [0.0] * len(folds)
    position = count = 0
    clock = time.perf_counter
    for envelope in events:
        for i, fold in enumerate(folds):
            if fold.projection.name in failed:
                continue
            started = clock()
            try:
                fold.apply(envelope)
            except FoldHaltedError as e:
                failed[fold.projection.name] = e
            costs[i] += clock() - started
        position = envelope.position
        count += 1
    return position, count, costs


def split(
    folds: Sequence[MemoryFold], costs: Sequence[float]
) -> tuple[list[MemoryFold], list[MemoryFold]]:
    """(parent's, child's): the heaviest fold and those that balance the
    two groups' measured costs best (greedy, heaviest first)."""
    order = sorted(range(len(folds)), key=lambda i: -costs[i])
    groups: tuple[list[MemoryFold], list[MemoryFold]] = ([], [])
    loads = [0.0, 0.0]
    for i in order:
        lighter = 0 if loads[0] <= loads[1] else 1
        groups[lighter].append(folds[i])
        loads[lighter] += costs[i]
    return groups


@dataclass
class Outcome:
    """What the child sends back for one of its folds."""

    name: str
    count: int
    parked: list[DeadLetter] = field(default_factory=list)
    waiting: set[str] = field(default_factory=set)
    halted: str | None = None
    """The fold's :class:`FoldHaltedError` message, if it halted."""


@dataclass
class Result:
    """The child's answer: the last position it read and each fold's outcome,
    or the error that stopped it."""

    position: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None


Work = Callable[[Connection], tuple[int, dict[str, BaseException]]]
"""The child's fold (on its own connection): (last position, halted folds)."""


class Child:
    """The forked process folding and loading one group.

    Args:
        conninfo: Where the child connects (the parent's database).
        folds: The child's group.
        fold: Folds the group on the child's connection.
        load: COPYs one fold into its fresh tables on that connection.
    """

    def __init__(
        self,
        conninfo: str,
        folds: Sequence[MemoryFold],
        fold: Work,
        load: Callable[[Connection, MemoryFold], None],
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_run,
            args=(conninfo, list(folds), fold, load, sender),
            name="rebuild-fold",
            daemon=True,
        )
        self._process.start()
        sender.close()

    def result(self) -> Result:
        """Wait for the child's answer."""
        try:
            answer: Result = self._receiver.recv()
        except EOFError:
            answer = Result(error="the rebuild's fold process ended without answer")
        self._process.join()
        return answer

    def stop(self) -> None:
        """End the child if it still runs (the parent failed first)."""
        self._receiver.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join()


def _run(
    conninfo: str,
    folds: list[MemoryFold],
    fold: Work,
    load: Callable[[Connection, MemoryFold], None],
    sender: Any,
) -> None:
    try:
        sender.send(_work(conninfo, folds, fold, load))
    except BaseException as e:  # answered, then the child ends
        sender.send(Result(error=f"{type(e).__name__}: {e}"))
    finally:
        os._exit(0)


def _work(
    conninfo: str,
    folds: list[MemoryFold],
    fold: Work,
    load: Callable[[Connection, MemoryFold], None],
) -> Result:
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
        position, failed = fold(conn)
        outcomes = []
        for each in folds:
            name = each.projection.name
            if name in failed:
                outcomes.append(Outcome(name, each.count, halted=str(failed[name])))
                continue
            load(conn, each)
            outcomes.append(Outcome(name, each.count, each.parked, each.waiting))
    return Result(position, outcomes)


def pages(
    read: Callable[[int, int], Sequence[Notification]], after: int, size: int
) -> Iterator[Notification]:
    """Every stored event after ``after``, read ``size`` at a time."""
    while True:
        page = read(after, size)
        yield from page
        if len(page) < size:
            return
        after = page[-1].id
