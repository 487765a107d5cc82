"""Rebuild a table projection from the event store, online, then swap it in.

1. **Fold** every stored event, in position order and in large pages, into
   :class:`MemoryRows` (each row turned into the public envelope the relay
   publishes, by :class:`infra.streaming.stored_envelopes.StoredEnvelopes`, which skips
   building the domain event where it can). No SQL per event.
   :meth:`Rebuilder.rebuild_all` folds several projections from one such
   pass (decoding costs more than most folds), then does steps 2-4 for each
   in turn.
2. **Load** the rows with COPY into fresh tables in ``rm_<name>__rebuild``;
   keys and indexes are created after loading. The old tables keep serving.
3. **Catch up** through :class:`PostgresRows` on the fresh tables, page by
   page, while the head moves, until it is within ``swap_lag`` events.
4. **Swap**, in one transaction: take the projection's writers lock
   exclusively (live batches take it shared, so none is in flight and none
   starts), read the head H, apply the last events up to H, drop ``rm_<name>``
   and rename the fresh schema to it, set every tracking position of the
   projection to ``max(current, H)`` (inserting one per partition of the
   topic), replace its dead letters with the rebuild's, clear a halt of the
   projection (its runner resumes from Kafka and skips what is up to H),
   record the shape.

No gap: the fresh tables hold exactly the events up to H; live consumption
resumes from Kafka and applies, per partition, every event past H. No double
apply: any event up to H is skipped by the tracking check. The runner's
batches can only have applied events up to H (they were in the store before
the lock was granted), so ``max(current, H)`` is H.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from itertools import islice

import psycopg
from eventsourcing.persistence import Notification
from psycopg import sql

from infra.erasure.keys import PersonKeys
from infra.erasure.sealing import PersonalCipher
from infra.errors import InfrastructureError
from infra.eventstore.store import EVENTS_TABLE, LibraryEventStore
from infra.postgres import dead_letters, projection_halts
from infra.postgres.person_keys import PostgresPersonKeys
from infra.postgres.pool import Connection, Database
from infra.postgres.projection_schemas import (
    copy_rows,
    create_keys,
    create_tables,
    lock_exclusive,
    record_shape,
)
from infra.postgres.rows import PostgresRows, schema_name
from infra.projection.fold_split import (
    Child,
    Result,
    pages,
    read_page,
    split,
    timed_apply,
)
from infra.projection.memory_fold import FoldHaltedError, MemoryFold
from infra.streaming.public_events import personal_view
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.envelope import EventEnvelope
from projections.ports import TableProjection

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (events folded or applied so far, events to go through)."""

_REBUILD_LOCK = 0x5242  # "RB": one rebuild per projection at a time
SPLIT_FROM = 50_000
"""Events left after the first page from which a rebuild of several
projections folds in two processes (fewer: forking costs more than it gains)."""


class RebuildError(InfrastructureError):
    """The rebuild stopped; the old tables still serve, unchanged."""


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild did."""

    projection: str
    built_up_to: int
    events: int
    parked: int
    seconds: float


class Rebuilder:
    """Rebuilds projections from the event store (see the module docstring).

    Args:
        database: Our pool (read models, tracking).
        store: The event store, read in position order.
        source: ``ce_source`` of the envelopes (the relay's setting).
        topic: The events topic, whose tracking positions the swap sets.
        partitions: Partition numbers of ``topic`` (asked at swap time).
        page_size: Stored events read per page.
        swap_lag: Events left to apply inside the swap transaction, at most.
        lock_timeout: How long the swap may wait for readers of the old tables.
        split_from: Events left after the first page from which a rebuild of
            several projections folds in two processes (``None``: never).
    """

    def __init__(
        self,
        database: Database,
        store: LibraryEventStore,
        source: str,
        topic: str,
        partitions: Callable[[], list[int]],
        page_size: int = 5_000,
        swap_lag: int = 500,
        lock_timeout: str = "5s",
        split_from: int | None = SPLIT_FROM,
    ) -> None:
        self._db = database
        self._store = store
        self._source = source
        self._topic = topic
        self._partitions = partitions
        self._page = page_size
        self._swap_lag = swap_lag
        self._lock_timeout = lock_timeout
        self._split_from = split_from
        self._envelopes = StoredEnvelopes(store, source)

    def events(
        self,
        after: int,
        upto: int | None = None,
        read: Callable[[int, int], Sequence[Notification]] | None = None,
        keys: PersonKeys | None = None,
    ) -> Iterator[EventEnvelope]:
        """Public envelopes of the stored events after ``after`` (up to
        ``upto``), their personal fields opened (``[erased]`` for an erased
        person), as the projectors see them (read by ``read``, the store's
        reader unless given, with ``keys``, the store's unless given)."""
        envelopes = self._envelopes
        personal = PersonalCipher(keys or self._store.personal.keys, remember=True)
        for stored in pages(read or self._store.read_after, after, self._page):
            if upto is not None and stored.id > upto:
                return
            envelope = envelopes.envelope(stored, stored.id)
            yield personal_view(envelope, personal, reveal=True)

    def rebuild(
        self, projection: TableProjection, progress: Progress = lambda _d, _t: None
    ) -> RebuildResult:
        """Rebuild ``projection`` into fresh tables and swap them in.

        Raises:
            RebuildError: another rebuild of it runs, a ``halt`` projection
                failed on an event, or the swap could not get its locks.
        """
        return self.rebuild_all((projection,), progress)[0]

    def rebuild_all(
        self,
        projections: Sequence[TableProjection],
        progress: Progress = lambda _d, _t: None,
    ) -> list[RebuildResult]:
        """Rebuild ``projections`` from one read of the store, then swap each.

        Every stored event is read and decoded once and folded into each
        projection in turn (decoding costs more than most folds); each then
        loads, catches up and swaps on its own, as :meth:`rebuild` does, so
        readers of one wait only for its own swap.

        Raises:
            RebuildError: another rebuild of one of them runs (none is
                rebuilt), or some could not be rebuilt: a ``halt`` projection
                failed on an event or a swap could not get its locks (the
                others were rebuilt and swapped in; the error names which not).
        """
        started = time.monotonic()
        failed: dict[str, BaseException] = {}
        results: list[RebuildResult] = []
        with self._db.connection() as guard:
            locked = _lock_all(guard, [p.name for p in projections])
            child: Child | None = None
            try:
                with _cyclic_gc_paused():
                    folds = [MemoryFold(p) for p in projections]
                    total = self._store.head()
                    position, theirs, child = self._fold(
                        guard, folds, total, progress, failed
                    )
                    finish = partial(self._finish_all, guard, progress, started)
                    results += finish(folds, position, failed, loaded=False)
                    if child is not None:
                        position = _adopt(child.result(), theirs, failed)
                        results += finish(theirs, position, failed, loaded=True)
            finally:
                if child is not None:
                    child.stop()
                _unlock(guard, locked)
        errors = list(failed.values())
        if len(errors) == 1 and isinstance(errors[0], RebuildError):
            raise errors[0]
        if errors:
            raise RebuildError("; ".join(map(str, errors))) from errors[0]
        return results

    def _finish_all(
        self,
        guard: Connection,
        progress: Progress,
        started: float,
        folds: list[MemoryFold],
        position: int,
        failed: dict[str, BaseException],
        loaded: bool,
    ) -> list[RebuildResult]:
        """:meth:`_finish` each fold not failed; ``failed`` gets the others."""
        results = []
        while folds:  # popped, so that each fold's memory goes after it
            fold = folds.pop(0)
            if fold.projection.name in failed:
                _drop(guard, _fresh(fold))
                continue
            done = self._finish(guard, fold, position, progress, started, loaded)
            if isinstance(done, RebuildResult):
                results.append(done)
            else:
                failed[fold.projection.name] = done
        return results

    def _finish(
        self,
        guard: Connection,
        fold: MemoryFold,
        position: int,
        progress: Progress,
        started: float,
        loaded: bool = False,
    ) -> RebuildResult | BaseException:
        """Load (unless ``loaded``), catch up and swap one folded projection
        (or say why not)."""
        projection = fold.projection
        fresh = _fresh(fold)
        try:
            if not loaded:
                self._load(guard, fresh, fold)
            position = self._catch_up(guard, fresh, fold, position, progress)
            built = self._swap(guard, fresh, fold, position)
        except (FoldHaltedError, RebuildError) as e:
            _drop(guard, fresh)
            return e
        except BaseException:
            _drop(guard, fresh)
            raise
        result = RebuildResult(
            projection.name,
            built,
            fold.count,
            len(fold.parked),
            time.monotonic() - started,
        )
        log.info("projection rebuilt", extra=result.__dict__)
        return result

    def _fold(
        self,
        conn: Connection,
        folds: list[MemoryFold],
        total: int,
        progress: Progress,
        failed: dict[str, BaseException],
    ) -> tuple[int, list[MemoryFold], Child | None]:
        """Fold every stored event (read on ``conn``) in memory: (the last
        position read, the folds a child process took, that child).

        The first page goes into every fold, timed; if enough events follow,
        a child process takes the lighter folds from there (see
        :mod:`infra.projection.fold_split`) and ``folds`` keeps the others.
        A ``halt`` projection that fails is left out from there on, its
        error kept in ``failed``.
        """
        events = self.events(0, read=partial(read_page, conn))
        first = islice(events, self._page)
        position, count, costs = timed_apply(folds, first, failed)
        theirs: list[MemoryFold] = []
        child = None
        if count == self._page and self._splits(total - position, folds, failed):
            live = [i for i, f in enumerate(folds) if f.projection.name not in failed]
            _, theirs = split([folds[i] for i in live], [costs[i] for i in live])
            if theirs:
                child = self._fork(theirs, position, total)
                folds[:] = [f for f in folds if f not in theirs]
        active = [f for f in folds if f.projection.name not in failed]
        position, count = self._fold_pass(
            active, events, position, count, total, progress, failed
        )
        progress(count, max(total, position))
        return position, theirs, child

    def _splits(
        self, left: int, folds: list[MemoryFold], failed: dict[str, BaseException]
    ) -> bool:
        """Whether to fold in two processes from here."""
        return (
            self._split_from is not None
            and left >= self._split_from
            and len(folds) - len(failed) > 1
            and (os.cpu_count() or 1) > 1
            and isinstance(self._store.personal.keys, PostgresPersonKeys)
            and "fork" in multiprocessing.get_all_start_methods()
        )

    def _fork(self, folds: list[MemoryFold], after: int, total: int) -> Child:
        """A child process folding ``folds`` from ``after`` and loading them."""
        keys = self._store.personal.keys
        assert isinstance(keys, PostgresPersonKeys)

        def fold(conn: Connection) -> tuple[int, dict[str, BaseException]]:
            failed: dict[str, BaseException] = {}
            events = self.events(
                after,
                read=partial(read_page, conn),
                keys=keys.over(lambda: nullcontext(conn)),
            )
            position, _ = self._fold_pass(
                list(folds), events, after, 0, total, lambda _d, _t: None, failed
            )
            return position, failed

        def load(conn: Connection, each: MemoryFold) -> None:
            self._load(conn, _fresh(each), each)

        return Child(self._db.conninfo, folds, fold, load)

    def _fold_pass(
        self,
        active: list[MemoryFold],
        events: Iterator[EventEnvelope],
        position: int,
        count: int,
        total: int,
        progress: Progress,
        failed: dict[str, BaseException],
    ) -> tuple[int, int]:
        """The rest of the events' one pass: (last position, events read)."""
        for envelope in events:
            if not active:
                break
            for fold in active:
                try:
                    fold.apply(envelope)
                except FoldHaltedError as e:
                    failed[fold.projection.name] = e
                    active = [f for f in active if f is not fold]
            position = envelope.position
            count += 1
            if count % self._page == 0:
                progress(count, max(total, position))
        return position, count

    def _load(self, conn: Connection, fresh: str, fold: MemoryFold) -> None:
        """COPY the folded rows into fresh tables, then add keys and indexes."""
        tables = fold.projection.tables
        with conn.transaction():
            _drop(conn, fresh)
            create_tables(conn, fresh, tables)
            for table in tables:
                copy_rows(conn, fresh, table, partial(fold.loadable, table))
            create_keys(conn, fresh, tables)

    def _apply(
        self, conn: Connection, fresh: str, fold: MemoryFold, after: int, upto: int
    ) -> int:
        """Apply events in (after, upto] to the fresh tables; return the last."""
        projection = fold.projection
        rows = PostgresRows(conn, fresh, projection.tables)
        for envelope in self.events(after, upto):
            fold.count += 1
            if envelope.subject in fold.waiting:
                error: BaseException | str | None = fold.waits(envelope)
            else:
                error = dead_letters.apply_guarded(conn, projection, rows, envelope)
            if error is not None:
                fold.park(envelope, error)
            after = envelope.position
        return after

    def _catch_up(
        self,
        conn: Connection,
        fresh: str,
        fold: MemoryFold,
        position: int,
        progress: Progress,
    ) -> int:
        """Apply what arrived meanwhile until the head is within ``swap_lag``."""
        while (head := self._store.head()) - position > self._swap_lag:
            upto = min(head, position + self._page)
            with conn.transaction():
                position = self._apply(conn, fresh, fold, position, upto)
                position = max(position, upto)
            progress(fold.count, fold.count + head - position)
        return position

    def _swap(
        self, conn: Connection, fresh: str, fold: MemoryFold, position: int
    ) -> int:
        """The one transaction that hands the fresh tables over; return H."""
        projection = fold.projection
        live = schema_name(projection.name)
        try:
            with conn.transaction():
                # Waits for the live batch in flight (later ones queue behind).
                lock_exclusive(conn, projection.name)
                head = _head(conn)
                self._apply(conn, fresh, fold, position, head)
                # Readers of the old tables wait from here to the commit.
                conn.execute(
                    sql.SQL("SET LOCAL lock_timeout = {}").format(
                        sql.Literal(self._lock_timeout)
                    )
                )
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(live)
                    )
                )
                conn.execute(
                    sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                        sql.Identifier(fresh), sql.Identifier(live)
                    )
                )
                self._track(conn, projection.name, head)
                dead_letters.replace_all(conn, projection.name, fold.parked)
                projection_halts.clear(conn, projection.name)
                record_shape(conn, projection, head)
        except psycopg.errors.LockNotAvailable as e:
            raise RebuildError(
                f"{projection.name}: the swap waited over {self._lock_timeout}"
                " for readers of the old tables; run the rebuild again"
            ) from e
        return head

    def _track(self, conn: Connection, projection: str, head: int) -> None:
        """Every partition of the projection has now applied everything up to H."""
        conn.execute(
            "UPDATE projection_tracking SET position = GREATEST(position, %s),"
            " updated_at = now() WHERE projection = %s",
            (head, projection),
        )
        known = conn.execute(
            "SELECT partition FROM relay_partition_heads WHERE topic = %s",
            (self._topic,),
        ).fetchall()
        partitions = sorted({*self._partitions(), *(int(r[0]) for r in known)})
        conn.execute(
            "INSERT INTO projection_tracking"
            " (projection, topic, partition, position, kafka_offset)"
            " SELECT %s, %s, p, %s, -1 FROM unnest(%s::integer[]) AS p"
            " ON CONFLICT (projection, topic, partition) DO NOTHING",
            (projection, self._topic, head, partitions),
        )


def _fresh(fold: MemoryFold) -> str:
    """The schema a rebuild of ``fold``'s projection loads into."""
    return f"{schema_name(fold.projection.name)}__rebuild"


def _adopt(
    result: Result, folds: list[MemoryFold], failed: dict[str, BaseException]
) -> int:
    """Take the child's outcome into its ``folds`` (or its error into
    ``failed``); return the position the child read up to."""
    outcomes = {o.name: o for o in result.outcomes}
    for fold in folds:
        name = fold.projection.name
        outcome = outcomes.get(name)
        if result.error is not None or outcome is None:
            failed[name] = RebuildError(
                f"{name}: the rebuild's fold process failed: {result.error}"
            )
            continue
        fold.count = outcome.count
        fold.parked = outcome.parked
        fold.waiting = outcome.waiting
        if outcome.halted is not None:
            failed[name] = FoldHaltedError(outcome.halted)
    return result.position


def _head(conn: Connection) -> int:
    row = conn.execute(
        sql.SQL("SELECT COALESCE(MAX(notification_id), 0) FROM {}").format(
            sql.Identifier(EVENTS_TABLE)
        )
    ).fetchone()
    return int(row[0]) if row else 0


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a rebuild folds and loads.

    The fold keeps every row of the read models in memory: millions of
    long-lived objects that each full collection would traverse again, which
    made the collector a fifth of a large rebuild's time. Nothing in the fold
    makes cyclic garbage per event (envelopes are freed by reference
    counting), so pausing it costs no memory to speak of; the collector
    resumes afterwards as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _lock_all(conn: Connection, names: list[str]) -> list[str]:
    """Take every projection's rebuild lock, or none.

    Raises:
        RebuildError: a rebuild of one of them is running.
    """
    locked: list[str] = []
    for name in names:
        got = conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (_REBUILD_LOCK, name)
        ).fetchone()
        if not (got and got[0]):
            _unlock(conn, locked)
            raise RebuildError(f"a rebuild of {name} is running")
        locked.append(name)
    return locked


def _unlock(conn: Connection, names: list[str]) -> None:
    for name in names:
        conn.execute(
            "SELECT pg_advisory_unlock(%s, hashtext(%s))", (_REBUILD_LOCK, name)
        )


def _drop(conn: Connection, schema: str) -> None:
    conn.execute(
        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
    )
