"""The projection runner: one Kafka consumer group per projection.

For each polled batch it opens one Postgres transaction, applies every event
whose position is beyond the partition's tracked position (a redelivered event
is skipped), writes the new tracking positions, commits, and only then commits
the Kafka offsets. A crash between the two commits redelivers events that are
then skipped: effects are exactly-once. An error aborts the transaction and
the offsets stay uncommitted; the runner rejoins and the events come again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
from kafka import OffsetAndMetadata
from kafka.errors import KafkaError
from tenacity import RetryCallState

from infra import cloudevents
from infra.backoff import until_stopped
from infra.errors import DependencyUnavailableError
from infra.logs import correlation_id
from infra.postgres.pool import Connection, Database
from projections.envelope import EventEnvelope
from projections.ports import Projection

log = logging.getLogger(__name__)

S = TypeVar("S")

RETRYABLE = (DependencyUnavailableError, KafkaError, psycopg.OperationalError)


@dataclass(frozen=True)
class StepResult:
    applied: int
    skipped: int


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


class ProjectionRunner(Generic[S]):
    """Feeds one projection from Kafka with exactly-once effects in Postgres."""

    def __init__(
        self,
        projection: Projection[S],
        store_factory: Callable[[Connection], S],
        database: Database,
        consumer_factory: Callable[[str], Any],
        topic: str,
        group: str | None = None,
    ) -> None:
        self.projection = projection
        self._group = group
        self._store_factory = store_factory
        self._db = database
        self._consumer_factory = consumer_factory
        self.topic = topic
        self._consumer: Any = None

    @property
    def group_id(self) -> str:
        return self._group or group_id(self.projection.name)

    def apply_batch(self, records: list[Any]) -> StepResult:
        """Apply records in one transaction with their tracking positions."""
        applied = skipped = 0
        correlations: set[str] = set()
        with self._db.connection() as conn, conn.transaction():
            tracked = self._tracked(conn, sorted({r.partition for r in records}))
            store = self._store_factory(conn)
            latest: dict[int, tuple[int, int]] = {}
            for record in records:
                envelope = cloudevents.decode(record.value, record.headers)
                current = latest.get(
                    record.partition, (tracked.get(record.partition, 0), -1)
                )
                if envelope.position <= current[0]:
                    skipped += 1
                    continue
                self._apply(envelope, store)
                latest[record.partition] = (envelope.position, record.offset)
                correlations.add(envelope.correlation_id)
                applied += 1
            for partition, (position, offset) in latest.items():
                conn.execute(
                    "INSERT INTO projection_tracking"
                    " (projection, topic, partition, position, kafka_offset)"
                    " VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT (projection, topic, partition) DO UPDATE SET"
                    " position = EXCLUDED.position,"
                    " kafka_offset = EXCLUDED.kafka_offset, updated_at = now()",
                    (self.projection.name, self.topic, partition, position, offset),
                )
        if applied:
            log.info(
                "events projected",
                extra={
                    "projection": self.projection.name,
                    "applied": applied,
                    "skipped": skipped,
                    "correlation_ids": sorted(correlations)[:20],
                },
            )
        return StepResult(applied, skipped)

    def _apply(self, envelope: EventEnvelope, store: S) -> None:
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
        result = self.apply_batch(records)
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
