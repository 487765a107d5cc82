"""The webhook fan-out: the event stream to delivery rows, exactly once.

A Kafka consumer in its own group (``assurehub.webhooks``). Each polled
batch is handled in one Postgres transaction that locks the partitions'
tracking rows (``projection_tracking``, projection ``webhooks``), writes a
delivery per event and matching subscription (:func:`enqueue`) for every
record beyond the tracked position, and moves the tracking positions; the
Kafka offsets are committed after. A crash between the two commits
redelivers records that are then skipped, so each event is owed to each
subscription once; the offset commit is therefore not waited for. A record
that is not one of our events is logged and passed over (there is nothing
to deliver).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from kafka import OffsetAndMetadata

from infra.postgres.pool import Database
from infra.postgres.webhooks import Owed, enqueue
from infra.projection.batch import Batch
from infra.projection.parking import Delivery, read
from infra.streaming.cloudevents import structured
from infra.streaming.personal_fields import masked
from projections.envelope import EventEnvelope

log = logging.getLogger(__name__)

NAME = "webhooks"
GROUP_ID = "assurehub.webhooks"


def organization_of(envelope: EventEnvelope) -> str | None:
    """The client organization an event concerns, if it names one."""
    if envelope.type.startswith("assurehub.organization."):
        return envelope.subject
    found = envelope.data.get("organization_id")
    return found if isinstance(found, str) else None


def owed(envelope: EventEnvelope) -> Owed:
    """What a delivery of ``envelope`` holds: the structured CloudEvent, its
    personal fields ``null`` (a receiver holds no personal data, so an
    erasure has nothing to reach there; the feed shows them to callers with
    ``events:read_personal``)."""
    body = json.dumps(
        structured(masked(envelope)), separators=(",", ":"), sort_keys=True
    )
    return Owed(
        envelope.tenant_id,
        envelope.id,
        envelope.type,
        envelope.subject,
        envelope.position,
        organization_of(envelope),
        body,
    )


def _committed(_offsets: object, result: object) -> None:
    """Log an offset commit that failed (its records come again and are
    skipped by the tracking rows)."""
    if isinstance(result, Exception):
        log.warning("webhook fan-out offsets not committed: %s", result)


class WebhookFanout:
    """Turns the events topic into webhook deliveries.

    Args:
        database: The pool.
        consumer_factory: A group member for the group id.
        topic: The events topic.
        on_enqueued: Called after a batch that queued deliveries (wakes the
            sender).
        group: The consumer group (default :data:`GROUP_ID`).
    """

    def __init__(
        self,
        database: Database,
        consumer_factory: Callable[[str], Any],
        topic: str,
        on_enqueued: Callable[[], None] = lambda: None,
        group: str = GROUP_ID,
    ) -> None:
        self._group = group
        self._db = database
        self._factory = consumer_factory
        self._topic = topic
        self._wake = on_enqueued
        self._consumer: Any = None

    def apply(self, records: list[Any]) -> int:
        """Enqueue what ``records`` owe and move tracking, in one transaction;
        return how many deliveries were queued."""
        deliveries = [read(r, self._topic) for r in records]
        partitions = sorted({r.partition for r in records})
        with self._db.connection() as conn, conn.transaction():
            rows = conn.execute(
                "SELECT partition, position, kafka_offset FROM projection_tracking"
                " WHERE projection = %s AND topic = %s AND partition = ANY(%s)"
                " FOR UPDATE",
                (NAME, self._topic, partitions),
            ).fetchall()
            batch = Batch({int(p): (int(a), int(o)) for p, a, o in rows}, set(), set())
            events: list[Owed] = []
            for delivery in deliveries:
                if batch.is_new(delivery):
                    self._take(delivery, events)
                    batch.advance(delivery)
            queued = enqueue(conn, events)
            for partition, (position, offset) in batch.latest.items():
                conn.execute(
                    "INSERT INTO projection_tracking"
                    " (projection, topic, partition, position, kafka_offset)"
                    " VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT (projection, topic, partition) DO UPDATE SET"
                    " position = EXCLUDED.position,"
                    " kafka_offset = EXCLUDED.kafka_offset, updated_at = now()",
                    (NAME, self._topic, partition, position, offset),
                )
        return queued

    @staticmethod
    def _take(delivery: Delivery, events: list[Owed]) -> None:
        if delivery.envelope is None or delivery.problem is not None:
            log.error(
                "record not delivered to webhooks: it is not one of our events",
                extra={
                    "event_id": delivery.event_id,
                    "partition": delivery.origin.partition,
                    "offset": delivery.origin.offset,
                    "problem": delivery.problem,
                },
            )
            return
        events.append(owed(delivery.envelope))

    def step(self, timeout_ms: int = 200) -> int:
        """Poll once, enqueue, then commit the offsets (without waiting:
        the tracking rows, not the offsets, decide what was applied)."""
        if self._consumer is None:
            self._consumer = self._factory(self._group)
        consumer = self._consumer
        polled = consumer.poll(timeout_ms=timeout_ms)
        records = [r for recs in polled.values() for r in recs]
        if not records:
            return 0
        queued = self.apply(records)
        if queued:
            self._wake()
        consumer.commit_async(
            {
                tp: OffsetAndMetadata(recs[-1].offset + 1, "", -1)
                for tp, recs in polled.items()
            },
            _committed,
        )
        return queued

    def run(
        self, stop: threading.Event, beat: Callable[[], None] = lambda: None
    ) -> None:
        """Consume until ``stop`` is set; after a failure, rejoin and go on
        from the committed offsets (what was applied is skipped)."""
        while not stop.is_set():
            beat()
            try:
                self.step()
            except Exception:
                log.exception("webhook fan-out failed; the batch comes again")
                self.close()
                stop.wait(2)
        self.close()

    def close(self) -> None:
        """Leave the group (uncommitted offsets are redelivered)."""
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)
            except Exception:
                log.debug("consumer close failed", exc_info=True)
            self._consumer = None
