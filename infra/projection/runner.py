"""The projection runner: one Kafka consumer group per projection.

For each polled batch it opens one Postgres transaction, takes the
projection's writers lock in shared mode (a rebuild's swap takes it
exclusively), checks that the projection is not halted and that its tables
have the shape the code expects, applies every event whose position is
beyond the partition's tracked position (a redelivered event is skipped),
writes the new tracking positions, commits, and only then commits the Kafka
offsets. A crash between the two commits redelivers events that are then
skipped: effects are exactly-once.

A record the projection cannot apply is dead-lettered according to its
``on_error`` policy (see :mod:`infra.postgres.dead_letters`): with ``park``
the batch is applied again event by event in savepoints, the failing record
kept and skipped; with ``halt`` the batch rolls back and is retried. A record
that is not one of our events (it does not decode, or its type is unknown) is
parked without being tried. Outages roll the batch back; the runner rejoins
and the events come again.

A record that can be neither applied nor parked (the dead-letter insert
itself fails) halts the projection: the batch rolls back, the halt is
recorded in a transaction of its own (:mod:`infra.postgres.projection_halts`)
and the runner leaves its group and consumes nothing, committing no offset,
until an operator clears the halt (``assurehub projections resume NAME``); it
keeps beating its heartbeat meanwhile, so it is not restarted in a loop.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from kafka import OffsetAndMetadata
from kafka.errors import KafkaError
from tenacity import RetryCallState

from infra.backoff import until_stopped
from infra.erasure.sealing import PersonalCipher
from infra.errors import DependencyUnavailableError, InfrastructureError
from infra.logs import event_context
from infra.postgres import dead_letters
from infra.postgres.buffered_rows import BufferedRows, BufferedWriteError
from infra.postgres.dead_letters import HALT, DeadLetter
from infra.postgres.pool import Connection, Database
from infra.postgres.projection_schemas import (
    ShapeMismatchError,
    check_shape,
    lock_shared,
)
from infra.postgres.rows import PostgresRows, schema_name
from infra.projection import parking
from infra.projection.batch import Batch, StepResult, log_parked
from infra.projection.halting import (
    ProjectionStoppedError,
    halt,
    wait_while_halted,
)
from infra.projection.parking import Delivery
from infra.projection.prefetch import touched_keys
from infra.streaming.public_events import personal_view
from infra.trace_context import trace_id
from projections.envelope import EventEnvelope
from projections.ports import TableProjection
from projections.rows import Rows

log = logging.getLogger(__name__)

RETRYABLE = (
    DependencyUnavailableError,
    KafkaError,
    psycopg.OperationalError,
    ShapeMismatchError,
)


class ProjectionHaltedError(InfrastructureError):
    """A ``halt`` projection could not apply an event; its batch is retried."""


class _EventFailedError(Exception):
    def __init__(self, dead: DeadLetter) -> None:
        super().__init__(dead.error)
        self.dead = dead


class _ParkFailedError(Exception):
    """The dead letter could not be written (the cause is chained)."""

    def __init__(self, dead: DeadLetter) -> None:
        super().__init__(dead.error)
        self.dead = dead


def group_id(projection_name: str) -> str:
    """Kafka consumer group of a projection."""
    return f"assurehub.projection.{projection_name}"


def log_wait(state: RetryCallState) -> None:
    """Log a worker's failed attempt before its backoff."""
    error = state.outcome.exception() if state.outcome else None
    expected = isinstance(error, RETRYABLE)
    log.log(
        logging.WARNING if expected else logging.ERROR,
        "projector waiting for its dependencies"
        if expected
        else "projector failed on a batch; it will be delivered again",
        exc_info=None if expected else error,
        extra={
            "error": str(error),
            "attempt": state.attempt_number,
            "retry_in_seconds": round(state.upcoming_sleep, 2),
        },
    )


def _park(conn: Connection, dead: DeadLetter) -> None:
    """Write ``dead``; a failure that is not an outage means it cannot be parked."""
    try:
        dead_letters.record(conn, dead)
    except Exception as e:
        if dead_letters.is_transient(e):
            raise
        raise _ParkFailedError(dead) from e


class ProjectionRunner:
    """Feeds one table projection from Kafka with exactly-once effects.

    Args:
        halt_poll_seconds: While halted, how often it looks whether the halt
            was cleared.
        personal: Opens the sealed personal fields of each event for the
            projection (:func:`~infra.streaming.public_events.personal_view`);
            ``None`` hands them on sealed.
    """

    def __init__(
        self,
        projection: TableProjection,
        database: Database,
        consumer_factory: Callable[[str], Any],
        topic: str,
        group: str | None = None,
        halt_poll_seconds: float = 5.0,
        personal: PersonalCipher | None = None,
    ) -> None:
        self.projection = projection
        self._personal = personal
        self.on_error = dead_letters.policy(projection)
        self._group = group
        self._db = database
        self._consumer_factory = consumer_factory
        self.topic = topic
        self._consumer: Any = None
        self._halt_poll = halt_poll_seconds

    @property
    def group_id(self) -> str:
        return self._group or group_id(self.projection.name)

    def apply_batch(self, records: list[Any]) -> StepResult:
        """Apply Kafka records in one transaction with their tracking
        positions (see :meth:`apply_deliveries`)."""
        return self.apply_deliveries([parking.read(r, self.topic) for r in records])

    def apply_deliveries(self, deliveries: list[Delivery]) -> StepResult:
        """Apply records, already read, in one transaction with their
        tracking positions.

        Raises:
            ShapeMismatchError: the tables need a rebuild; nothing was applied.
            ProjectionHaltedError: a ``halt`` projection failed on an event.
            ProjectionStoppedError: the projection is halted (now, because a
                record could be neither applied nor parked, or already).
        """
        try:
            batch = self._apply_or_park(deliveries)
        except _ParkFailedError as failed:
            reason = halt(self._db, failed.dead, failed.__cause__)
            raise ProjectionStoppedError(self.projection.name, reason) from (
                failed.__cause__
            )
        for dead in batch.parked:
            log_parked(dead)
        if batch.applied or batch.parked:
            log.info(
                "events projected",
                extra={
                    "projection": self.projection.name,
                    "applied": len(batch.applied),
                    "skipped": batch.skipped,
                    "parked": len(batch.parked),
                    "correlation_ids": sorted(batch.correlations)[:20],
                    "trace_ids": sorted({trace_id(t) for t in batch.traces})[:20]
                    or None,
                },
            )
        return batch.result()

    def _apply_or_park(self, deliveries: list[Delivery]) -> Batch:
        try:
            try:
                return self._apply_records(deliveries, guarded=False, buffered=True)
            except BufferedWriteError as e:
                log.info(
                    "a batch's held writes were refused; applying it row by row",
                    extra={"projection": self.projection.name, "error": str(e)},
                )
                return self._apply_records(deliveries, guarded=False)
        except _EventFailedError as failed:
            if self.on_error == HALT:
                self._record_halt(failed.dead)
                raise ProjectionHaltedError(failed.dead.error) from failed.__cause__
        return self._apply_records(deliveries, guarded=True)

    def _apply_records(
        self, deliveries: list[Delivery], *, guarded: bool, buffered: bool = False
    ) -> Batch:
        """Apply ``deliveries`` in one transaction with their tracking
        positions; ``guarded``: each in a savepoint, parking what fails;
        ``buffered``: through :class:`BufferedRows` (the rows the events
        tell of read in one query per table, every row written once per
        batch)."""
        name = self.projection.name
        with self._db.connection() as conn, conn.transaction():
            shape, halted = lock_shared(conn, name)
            if halted is not None:
                raise ProjectionStoppedError(name, halted)
            check_shape(self.projection, shape)
            subjects = {d.subject for d in deliveries if d.subject is not None}
            waiting, halted_ids = dead_letters.known(conn, name, sorted(subjects))
            partitions = sorted({int(d.origin.partition or 0) for d in deliveries})
            batch = Batch(self._tracked(conn, partitions), waiting, halted_ids)
            tables = self.projection.tables
            direct = PostgresRows(conn, schema_name(name), tables)
            rows: Rows = direct
            if buffered:
                rows = BufferedRows(direct, tables)
                self._prefetch(rows, deliveries, batch)
            for delivery in deliveries:
                if not batch.is_new(delivery):
                    batch.skipped += 1
                    continue
                self._apply_one(conn, rows, delivery, batch, guarded)
                batch.advance(delivery)
                batch.correlations.add(delivery.correlation_id)
                if delivery.traceparent:
                    batch.traces.add(delivery.traceparent)
            if isinstance(rows, BufferedRows):
                rows.flush()
            self._save(conn, batch)
        return batch

    def _prefetch(
        self, rows: BufferedRows, deliveries: list[Delivery], batch: Batch
    ) -> None:
        """Read the rows the batch's new events will touch, as far as they
        tell (:func:`infra.projection.prefetch.touched_keys`), and once more
        for the keys the rows found lead to."""
        events = [
            d.envelope
            for d in deliveries
            if d.envelope is not None and d.problem is None and batch.is_new(d)
        ]
        if len(events) < 2:  # one event reads each row once anyway
            return
        if rows.prefetch(touched_keys(self.projection, events)):
            rows.prefetch(touched_keys(self.projection, events, rows.known_rows()))

    def _apply_one(
        self,
        conn: Connection,
        rows: Rows,
        delivery: Delivery,
        batch: Batch,
        guarded: bool,
    ) -> None:
        """Apply (or park) one record with its correlation id and
        traceparent on every log line."""
        with event_context(delivery.correlation_id, delivery.traceparent):
            error = self._error_of(conn, rows, delivery, batch, guarded)
            if error is None:
                batch.applied.append(delivery.event_id)
                return
            dead = parking.letter(self.projection.name, delivery, error)
            _park(conn, dead)
            batch.parked.append(dead)
            if delivery.subject is not None:
                batch.waiting.add(delivery.subject)

    def _error_of(
        self,
        conn: Connection,
        rows: Rows,
        delivery: Delivery,
        batch: Batch,
        guarded: bool,
    ) -> BaseException | str | None:
        """Apply ``delivery``; return why it was not (``None``: it was)."""
        if delivery.problem is not None or delivery.envelope is None:
            return delivery.problem or "the record does not decode"
        if delivery.subject in batch.waiting:
            return f"waits for an earlier parked event of {delivery.subject}"
        envelope = delivery.envelope
        if guarded:
            return dead_letters.apply_guarded(conn, self.projection, rows, envelope)
        try:
            self._apply(envelope, rows)
        except Exception as e:
            if dead_letters.is_transient(e) or isinstance(e, BufferedWriteError):
                raise
            dead = parking.letter(self.projection.name, delivery, e)
            raise _EventFailedError(dead) from e
        return None

    def _apply(self, envelope: EventEnvelope, store: Any) -> None:
        """Apply one event with its correlation id on every log line."""
        if self._personal is not None:
            envelope = personal_view(envelope, self._personal, reveal=True)
        with event_context(envelope.correlation_id, envelope.traceparent):
            self.projection.apply(envelope, store)
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "event projected",
                    extra={
                        "projection": self.projection.name,
                        "event_id": envelope.id,
                        "event_type": envelope.type,
                        "position": envelope.position,
                    },
                )

    def _save(self, conn: Connection, batch: Batch) -> None:
        """Write the tracking positions; drop letters of halted events applied."""
        for partition, (position, offset) in batch.latest.items():
            conn.execute(
                "INSERT INTO projection_tracking"
                " (projection, topic, partition, position, kafka_offset)"
                " VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (projection, topic, partition) DO UPDATE SET"
                " position = EXCLUDED.position,"
                " kafka_offset = EXCLUDED.kafka_offset, updated_at = now()",
                (self.projection.name, self.topic, partition, position, offset),
            )
        recovered = batch.halted.intersection(batch.applied)
        if recovered:
            dead_letters.forget(conn, self.projection.name, sorted(recovered))

    def _record_halt(self, dead: DeadLetter) -> None:
        """Record the event a ``halt`` projection stopped at (own transaction:
        the batch's was rolled back)."""
        halted = dataclasses.replace(dead, state="halted")
        with self._db.connection() as conn, conn.transaction():
            _park(conn, halted)
        log_parked(halted)

    def _tracked(
        self, conn: Connection, partitions: list[int]
    ) -> dict[int, tuple[int, int]]:
        """Tracked (position, offset) of ``partitions``, locked against a
        concurrent member of the group (only these rows: members work in
        parallel)."""
        rows = conn.execute(
            "SELECT partition, position, kafka_offset FROM projection_tracking"
            " WHERE projection = %s AND topic = %s AND partition = ANY(%s)"
            " FOR UPDATE",
            (self.projection.name, self.topic, partitions),
        ).fetchall()
        return {int(p): (int(pos), int(off)) for p, pos, off in rows}

    def step(self, timeout_ms: int = 200, *, commit_offsets: bool = True) -> StepResult:
        """Poll once, apply, then commit the offsets (unless told not to)."""
        consumer = self._ensure_consumer()
        batch = consumer.poll(timeout_ms=timeout_ms)
        records = [r for tp_records in batch.values() for r in tp_records]
        if not records:
            return StepResult(0, 0)
        try:
            result = self.apply_batch(records)
        except BaseException:
            self._rewind(consumer, batch)
            raise
        if commit_offsets:
            offsets = {
                tp: OffsetAndMetadata(recs[-1].offset + 1, "", -1)
                for tp, recs in batch.items()
            }
            consumer.commit(offsets)
        return result

    def run(
        self, stop: threading.Event, beat: Callable[[], None] = lambda: None
    ) -> None:
        """Consume until ``stop`` is set, surviving outages and failed batches;
        while halted, consume nothing and wait for the halt to be cleared."""
        log.info("projector started", extra={"projection": self.projection.name})

        @until_stopped(stop, (Exception,), log_wait)
        def loop() -> None:
            try:
                while not stop.is_set():
                    beat()
                    try:
                        self.step()
                    except ProjectionStoppedError as halted:
                        self.close()
                        self._halted(stop, beat, halted.reason)
            except BaseException:
                self.close()
                raise

        try:
            loop()
        except Exception:
            if not stop.is_set():
                raise
        finally:
            self.close()
            log.info("projector stopped", extra={"projection": self.projection.name})

    def _halted(
        self, stop: threading.Event, beat: Callable[[], None], reason: str
    ) -> None:
        name = self.projection.name
        log.error(
            "projection halted: it consumes nothing until resumed",
            extra={
                "projection": name,
                "reason": reason,
                "resume_with": f"assurehub projections resume {name}",
            },
        )
        wait_while_halted(self._db, name, stop, beat, self._halt_poll)

    def _rewind(self, consumer: Any, batch: dict[Any, list[Any]]) -> None:
        """Make a failed batch come again on the next poll."""
        try:
            for tp, recs in batch.items():
                consumer.seek(tp, recs[0].offset)
        except Exception:
            log.debug("seek failed; rejoining instead", exc_info=True)
            self.close()

    def _ensure_consumer(self) -> Any:
        if self._consumer is None:
            self._consumer = self._consumer_factory(self.group_id)
        return self._consumer

    def close(self) -> None:
        """Leave the consumer group (uncommitted offsets are redelivered)."""
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)
            except Exception:
                log.debug("consumer close failed", exc_info=True)
            self._consumer = None
