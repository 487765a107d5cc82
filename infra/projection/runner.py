"""The projection runner: one Kafka consumer group per projection.

For each polled batch it opens one Postgres transaction, takes the
projection's writers lock in shared mode (a rebuild's swap takes it
exclusively) and checks that the tables have the shape the code expects,
applies every event whose position is beyond the partition's tracked position
(a redelivered event is skipped), writes the new tracking positions, commits,
and only then commits the Kafka offsets. A crash between the two commits
redelivers events that are then skipped: effects are exactly-once.

An event the projection cannot apply is dead-lettered according to its
``on_error`` policy (see :mod:`infra.postgres.dead_letters`): with ``park``
the batch is applied again event by event in savepoints, the failing event
recorded and skipped; with ``halt`` the batch rolls back and is retried.
Outages roll the batch back; the runner rejoins and the events come again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from kafka import OffsetAndMetadata
from kafka.errors import KafkaError
from tenacity import RetryCallState

from infra.backoff import until_stopped
from infra.errors import DependencyUnavailableError, InfrastructureError
from infra.logs import correlation_id
from infra.postgres import dead_letters
from infra.postgres.dead_letters import HALT, TRANSIENT, DeadLetter, Origin
from infra.postgres.pool import Connection, Database
from infra.postgres.projection_schemas import (
    ShapeMismatchError,
    check_shape,
    lock_shared,
)
from infra.postgres.rows import PostgresRows, schema_name
from infra.streaming import cloudevents
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


@dataclass(frozen=True)
class StepResult:
    applied: int
    skipped: int
    parked: int = 0


class _EventFailedError(Exception):
    def __init__(self, dead: DeadLetter) -> None:
        super().__init__(dead.error)
        self.dead = dead


@dataclass
class _Batch:
    """One batch's bookkeeping inside its transaction."""

    tracked: dict[int, int]
    waiting: set[str]
    """Subjects with a parked event: their later events are parked too."""
    halted: set[str]
    latest: dict[int, tuple[int, int]] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    parked: list[DeadLetter] = field(default_factory=list)
    skipped: int = 0
    correlations: set[str] = field(default_factory=set)

    def is_new(self, partition: int, position: int) -> bool:
        done = self.latest.get(partition, (self.tracked.get(partition, 0), -1))[0]
        return position > done

    def result(self) -> StepResult:
        return StepResult(len(self.applied), self.skipped, len(self.parked))


def group_id(projection_name: str) -> str:
    """Kafka consumer group of a projection."""
    return f"assurehub.projection.{projection_name}"


def _log_wait(state: RetryCallState) -> None:
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


def log_parked(dead: DeadLetter) -> None:
    """Log a dead-lettered event with everything needed to find it."""
    e = dead.envelope
    log.error(
        "event dead-lettered" if dead.state == "parked" else "projection halted",
        extra={
            "projection": dead.projection,
            "state": dead.state,
            "event_id": e.id,
            "event_type": e.type,
            "subject": e.subject,
            "tenant_id": e.tenant_id,
            "position": e.position,
            "partition": dead.origin.partition,
            "offset": dead.origin.offset,
            "error": dead.error,
            "traceback": dead.traceback,
        },
    )


class ProjectionRunner:
    """Feeds one table projection from Kafka with exactly-once effects."""

    def __init__(
        self,
        projection: TableProjection,
        database: Database,
        consumer_factory: Callable[[str], Any],
        topic: str,
        group: str | None = None,
    ) -> None:
        self.projection = projection
        self.on_error = dead_letters.policy(projection)
        self._group = group
        self._db = database
        self._consumer_factory = consumer_factory
        self.topic = topic
        self._consumer: Any = None

    @property
    def group_id(self) -> str:
        return self._group or group_id(self.projection.name)

    def apply_batch(self, records: list[Any]) -> StepResult:
        """Apply records in one transaction with their tracking positions.

        Raises:
            ShapeMismatchError: the tables need a rebuild; nothing was applied.
            ProjectionHaltedError: a ``halt`` projection failed on an event.
        """
        try:
            batch = self._apply_records(records, guarded=False)
        except _EventFailedError as failed:
            if self.on_error == HALT:
                self._record_halt(failed.dead)
                raise ProjectionHaltedError(failed.dead.error) from failed.__cause__
            batch = self._apply_records(records, guarded=True)
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
                },
            )
        return batch.result()

    def _apply_records(self, records: list[Any], *, guarded: bool) -> _Batch:
        name = self.projection.name
        with self._db.connection() as conn, conn.transaction():
            check_shape(self.projection, lock_shared(conn, name))
            decoded = [(r, cloudevents.decode(r.value, r.headers)) for r in records]
            waiting, halted = dead_letters.known(
                conn, name, sorted({e.subject for _, e in decoded})
            )
            batch = _Batch(
                self._tracked(conn, sorted({r.partition for r in records})),
                waiting,
                halted,
            )
            rows = PostgresRows(conn, schema_name(name), self.projection.tables)
            for record, envelope in decoded:
                if not batch.is_new(record.partition, envelope.position):
                    batch.skipped += 1
                    continue
                origin = Origin(self.topic, record.partition, record.offset)
                self._apply_one(conn, rows, envelope, origin, batch, guarded)
                batch.latest[record.partition] = (envelope.position, record.offset)
                batch.correlations.add(envelope.correlation_id)
            self._save(conn, batch)
        return batch

    def _apply_one(
        self,
        conn: Connection,
        rows: Rows,
        envelope: EventEnvelope,
        origin: Origin,
        batch: _Batch,
        guarded: bool,
    ) -> None:
        """Apply (or park) one event with its correlation id on every log line."""
        name = self.projection.name
        token = correlation_id.set(envelope.correlation_id)
        try:
            error: BaseException | str | None = None
            if envelope.subject in batch.waiting:
                error = f"waits for an earlier parked event of {envelope.subject}"
            elif guarded:
                error = dead_letters.apply_guarded(
                    conn, self.projection, rows, envelope
                )
            else:
                try:
                    self._apply(envelope, rows)
                except TRANSIENT:
                    raise
                except Exception as e:
                    dead = dead_letters.letter(name, envelope, e, origin)
                    raise _EventFailedError(dead) from e
            if error is None:
                batch.applied.append(envelope.id)
                return
            dead = dead_letters.letter(name, envelope, error, origin)
            dead_letters.record(conn, dead)
            batch.parked.append(dead)
            batch.waiting.add(envelope.subject)
        finally:
            correlation_id.reset(token)

    def _apply(self, envelope: EventEnvelope, store: Any) -> None:
        """Apply one event with its correlation id on every log line."""
        token = correlation_id.set(envelope.correlation_id)
        try:
            self.projection.apply(envelope, store)
            log.debug(
                "event projected",
                extra={
                    "projection": self.projection.name,
                    "event_id": envelope.id,
                    "event_type": envelope.type,
                    "position": envelope.position,
                },
            )
        finally:
            correlation_id.reset(token)

    def _save(self, conn: Connection, batch: _Batch) -> None:
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
        halted = DeadLetter(
            dead.projection,
            "halted",
            dead.envelope,
            dead.origin,
            dead.error,
            dead.traceback,
        )
        with self._db.connection() as conn, conn.transaction():
            dead_letters.record(conn, halted)
        log_parked(halted)

    def _tracked(self, conn: Connection, partitions: list[int]) -> dict[int, int]:
        """Tracked positions of ``partitions``, locked against a concurrent
        member of the group (only these rows: members work in parallel)."""
        rows = conn.execute(
            "SELECT partition, position FROM projection_tracking"
            " WHERE projection = %s AND topic = %s AND partition = ANY(%s)"
            " FOR UPDATE",
            (self.projection.name, self.topic, partitions),
        ).fetchall()
        return {int(p): int(pos) for p, pos in rows}

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
        """Consume until ``stop`` is set, surviving outages and failed batches."""
        log.info("projector started", extra={"projection": self.projection.name})

        @until_stopped(stop, (Exception,), _log_wait)
        def loop() -> None:
            try:
                while not stop.is_set():
                    beat()
                    self.step()
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
