"""Appends at many writers: group commit beside today's one-append-per-
transaction path, the lock-free "transaction order" prototype, and raw INSERT.

Every row runs ``processes`` processes of ``threads`` writer threads each
(16 writers: 2 processes of 8 on this machine's 2 cores, so that Python's
own work is not all on one core), all starting together, each thread
appending single-event commands through the application's store. A reader
tails the log during each store row and the row reports what it missed and
what it saw twice (both must be 0).

Rows:

* group commit: the production recorder (the events table's EXCLUSIVE lock;
  the process's concurrent appends in one transaction, each in a savepoint);
* one per transaction: the same recorder with batches of one (today's path:
  every append takes the lock, inserts, chains and commits alone);
* transaction order (the other way the issue names, prototyped here only):
  no table lock; each event records ``pg_current_xact_id()`` (a column this
  benchmark adds) and the reader reads in (transaction id, position) order
  up to ``pg_snapshot_xmin(pg_current_snapshot())``. The chain needs a
  per-tenant order that matches position order, so each append takes its
  tenants' advisory locks before drawing positions; "unchained" drops the
  chain and the tenant lock (the upper bound of that design);
* raw INSERT of the same row shape, one transaction per row.

Two workloads: ``organizations`` (the ``register_organization`` command,
chained) and ``invitations`` (an account invited: personal fields sealed with
a new person's data key, chained), the latter also without chain and
sealing (issue 14's "within 15 %" baseline): that pair runs in turns,
``ROUNDS`` times each, and reports medians.
"""

from __future__ import annotations

import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import psycopg

from bench.throughput import ADMIN, raw_insert_rate
from commands.context import CommandContext
from commands.organizations import OrganizationService, RegisterOrganization
from domain.account import Account
from domain.events import EventMeta
from infra.eventstore.appends import Append
from infra.eventstore.group_commit import Pending
from infra.eventstore.recorders import FailFastRecorder
from infra.eventstore.store import EVENTS_TABLE, LibraryEventStore, postgres_env
from infra.settings import Settings

META = EventMeta("bench", "bench", "c", "c")
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)
MODULE = "bench.appends"


class OneByOneRecorder(FailFastRecorder):
    """Today's path: every append in a locked transaction of its own, on its
    own connection (concurrent appends wait for the lock in Postgres)."""

    def _submit(self, append: Append) -> list[int]:
        pending: Pending[Append, list[int]] = Pending(append)
        try:
            self._write_batch([pending])
        except Exception as e:
            pending.fail(e)
        return pending.outcome()


class UnchainedRecorder(FailFastRecorder):
    """Group commit without the hash chain."""

    _chaining = False


class TransactionOrderRecorder(OneByOneRecorder):
    """Prototype of the lock-free way: no table lock; the chain's tenants
    locked (advisory) before positions are drawn; the transaction id is
    recorded by the column default this benchmark adds."""

    def _lock_table(self, curs: Any) -> None:
        pass

    def _lock_and_draw(self, curs: Any, pipeline: Any, batch: Any) -> Any:
        tenants = sorted({c.tenant_id for p in batch for c in p.item.linkables})
        for tenant in tenants:
            curs.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (tenant,), prepare=False
            )
        return super()._lock_and_draw(curs, pipeline, batch)


class UnchainedTransactionOrderRecorder(TransactionOrderRecorder):
    """The lock-free prototype without the chain (nothing serialized)."""

    _chaining = False


@dataclass(frozen=True)
class Row:
    workload: str
    path: str
    rate: float
    events: int
    missed: int
    duplicated: int
    rounds: tuple[float, ...] = ()
    """Each round's rate, when the row is a median of several."""


def _recorder(name: str) -> dict[str, str]:
    return {"APPLICATION_RECORDER_TOPIC": f"{MODULE}:{name}"}


def _organizations(store: LibraryEventStore) -> Callable[[int, int], object]:
    service = OrganizationService(store)
    ctx = CommandContext(ADMIN, "bench")
    return lambda w, i: service.register_organization(
        ctx, RegisterOrganization(f"Bench {uuid4().hex[:8]} {w}-{i}", "SE")
    )


def _invitations(
    store: LibraryEventStore, *, sealed: bool = True
) -> Callable[[int, int], object]:
    if not sealed:
        store.app.sealing_mapper.personal = None

    def invite(w: int, i: int) -> int:
        account = Account.invite(
            META,
            f"p{w}-{i}-{uuid4().hex[:8]}@example.com",
            f"Person {w}-{i}",
            ["auditor"],
            (),
            EXPIRES,
        )
        return store.append(account)

    return invite


WORKLOADS: dict[str, Callable[..., Callable[[int, int], object]]] = {
    "organizations": _organizations,
    "invitations": _invitations,
}


def _writer_process(
    settings: Settings,
    env: dict[str, str],
    workload: str,
    options: dict[str, bool],
    threads: int,
    per_thread: int,
    barrier: Any,
) -> None:
    store = LibraryEventStore({**postgres_env(settings), **env})
    command = WORKLOADS[workload](store, **options)
    command(-1, 0)  # warm-up: connections, prepared types
    gate = threading.Barrier(threads)
    failed: list[BaseException] = []

    def run(w: int) -> None:
        if gate.wait() == 0:
            barrier.wait()
        try:
            for i in range(per_thread):
                command(w, i)
        except BaseException as e:
            failed.append(e)
            raise

    workers = [threading.Thread(target=run, args=(w,)) for w in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    store.close()
    if failed:
        raise SystemExit(1)


@contextmanager
def _tailing(settings: Settings, query: str, start: Any) -> Iterator[list[Any]]:
    """A reader repeating ``query`` (after the last key seen) until told to
    stop and then finding nothing more; yields the keys it saw."""
    seen: list[Any] = []
    stop = threading.Event()

    def tail() -> None:
        last = start
        with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
            while True:
                finished = stop.is_set()
                rows = conn.execute(query, (*last, 1000), prepare=False).fetchall()
                seen.extend(rows)
                if rows:
                    last = rows[-1]
                elif finished:
                    return
                else:
                    time.sleep(0.002)

    reader = threading.Thread(target=tail)
    reader.start()
    try:
        yield seen
    finally:
        stop.set()
        reader.join(timeout=120)


BY_POSITION = (
    f"SELECT notification_id FROM {EVENTS_TABLE} WHERE notification_id > %s"
    " ORDER BY notification_id LIMIT %s"
)
BY_TRANSACTION = (
    f"SELECT bench_xact, notification_id FROM {EVENTS_TABLE}"
    " WHERE (bench_xact, notification_id) > (%s::text::xid8, %s)"
    " AND bench_xact < pg_snapshot_xmin(pg_current_snapshot())"
    " ORDER BY bench_xact, notification_id LIMIT %s"
)


def _head(settings: Settings, lock_free: bool) -> tuple[Any, ...]:
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        if lock_free:
            row = conn.execute(
                f"SELECT bench_xact, notification_id FROM {EVENTS_TABLE}"
                " ORDER BY bench_xact DESC, notification_id DESC LIMIT 1"
            ).fetchone()
            return tuple(row) if row else ("0", 0)
        row = conn.execute(
            f"SELECT max(notification_id) FROM {EVENTS_TABLE}"
        ).fetchone()
        return ((row[0] if row else None) or 0,)


def _committed(settings: Settings, lock_free: bool, start: Any) -> list[Any]:
    query = BY_TRANSACTION if lock_free else BY_POSITION
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        return conn.execute(query, (*start, 10_000_000), prepare=False).fetchall()


def store_rate(
    settings: Settings,
    workload: str,
    recorder: str,
    processes: int,
    threads: int,
    total: int,
    options: dict[str, bool] | None = None,
) -> tuple[float, int, int, int]:
    """``(commands/s, events committed, missed, duplicated)`` of one row."""
    lock_free = "TransactionOrder" in recorder
    start = _head(settings, lock_free)
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(processes + 1)
    per_thread = max(1, total // (processes * threads))
    workers = [
        spawn.Process(
            target=_writer_process,
            args=(
                settings,
                _recorder(recorder),
                workload,
                options or {},
                threads,
                per_thread,
                barrier,
            ),
        )
        for _ in range(processes)
    ]
    for p in workers:
        p.start()
    query = BY_TRANSACTION if lock_free else BY_POSITION
    with _tailing(settings, query, start) as seen:
        barrier.wait(timeout=120)
        started = time.perf_counter()
        for p in workers:
            p.join()
        seconds = time.perf_counter() - started
        if any(p.exitcode for p in workers):
            raise RuntimeError(f"a writer process failed ({recorder})")
    committed = _committed(settings, lock_free, start)
    seen_set = {tuple(r) for r in seen}
    missed = sum(1 for r in committed if tuple(r) not in seen_set)
    duplicated = len(seen) - len(seen_set)
    return (
        per_thread * threads * processes / seconds,
        len(committed),
        missed,
        duplicated,
    )


def prepare(settings: Settings) -> None:
    """Add the prototype's transaction id column (its default records the
    inserting transaction) and the reader's index."""
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        conn.execute(
            f"ALTER TABLE {EVENTS_TABLE} ADD COLUMN IF NOT EXISTS bench_xact xid8"
            " NOT NULL DEFAULT pg_current_xact_id()"
        )
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS bench_xact_order ON {EVENTS_TABLE}"
            " (bench_xact, notification_id)"
        )


PATHS: tuple[tuple[str, str, str, dict[str, bool]], ...] = (
    ("organizations", "group commit", "FailFastRecorder", {}),
    ("organizations", "one per transaction (today)", "OneByOneRecorder", {}),
    ("organizations", "transaction order", "TransactionOrderRecorder", {}),
    (
        "organizations",
        "transaction order, unchained",
        "UnchainedTransactionOrderRecorder",
        {},
    ),
    ("invitations", "one per transaction (today)", "OneByOneRecorder", {}),
)

PAIR: tuple[tuple[str, str, str, dict[str, bool]], ...] = (
    ("invitations", "group commit, neither", "UnchainedRecorder", {"sealed": False}),
    ("invitations", "group commit, chained and sealed", "FailFastRecorder", {}),
)
"""Issue 14's comparison: the same appends with and without the hash chain
and sealing, run in turns (``ROUNDS`` of each, interleaved, so that a
neighbour's load falls on both) and reported by their medians."""

ROUNDS = 3


def run(
    settings: Settings, total: int, processes: int, threads: int
) -> tuple[list[Row], float]:
    """Every path's row, and raw INSERTs/s at the same number of writers."""
    prepare(settings)
    rows = []
    for workload, path, recorder, options in PATHS:
        rate, events, missed, duplicated = store_rate(
            settings, workload, recorder, processes, threads, total, options
        )
        rows.append(Row(workload, path, rate, events, missed, duplicated))
    turns: dict[str, list[tuple[float, int, int, int]]] = {p[1]: [] for p in PAIR}
    for _ in range(ROUNDS):
        for workload, path, recorder, options in PAIR:
            turns[path].append(
                store_rate(
                    settings, workload, recorder, processes, threads, total, options
                )
            )
    for workload, path, _recorder, _options in PAIR:
        measured = turns[path]
        rates = tuple(m[0] for m in measured)
        rows.append(
            Row(
                workload,
                path,
                statistics.median(rates),
                max(m[1] for m in measured),
                sum(m[2] for m in measured),
                sum(m[3] for m in measured),
                rates,
            )
        )
    raw = raw_insert_rate(settings, processes * threads, total)
    return rows, raw
