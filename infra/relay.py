"""The relay: tails the event store in position order and publishes to Kafka.

At-least-once: a batch's position is saved in Postgres only after the broker
acknowledged every record of it, so a crash between publish and save
republishes (duplicates, never gaps); consumers deduplicate by ``ce_id`` or
position. It wakes on the NOTIFY the store sends in every insert transaction,
and polls as a fallback. When Kafka or Postgres is down it logs what it waits
for and retries with exponential backoff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.persistence import Notification
from kafka.errors import KafkaError
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception_type,
    stop_when_event_set,
    wait_exponential,
)

from infra import cloudevents
from infra.errors import DependencyUnavailableError
from infra.eventstore import EVENTS_CHANNEL, LibraryEventStore
from infra.postgres.pool import Database
from infra.public_events import to_envelope
from infra.settings import Settings

log = logging.getLogger(__name__)

_ACK_TIMEOUT = 15.0
"""Seconds to wait for the broker to acknowledge a batch."""

RETRYABLE = (DependencyUnavailableError, KafkaError, psycopg.OperationalError)


@dataclass(frozen=True)
class Published:
    """What one batch put on the topic."""

    last_position: int
    count: int
    heads: dict[int, int]
    """Per partition, the newest position published to it."""


def _log_wait(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "relay waiting for its dependencies",
        extra={
            "error": str(error),
            "dependency": getattr(error, "dependency", "kafka"),
            "attempt": state.attempt_number,
            "retry_in_seconds": round(state.upcoming_sleep, 2),
        },
    )


class Relay:
    """Publishes stored events to the events topic, in position order."""

    def __init__(
        self,
        settings: Settings,
        store: LibraryEventStore,
        database: Database,
        producer_factory: Callable[[], Any],
        topic: str | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._db = database
        self._producer_factory = producer_factory
        self._producer: Any = None
        self.topic = topic or settings.kafka_topic

    # -- progress --------------------------------------------------------

    def position(self) -> int:
        """The last position acknowledged by Kafka and saved."""
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT position FROM relay_progress WHERE topic = %s", (self.topic,)
            ).fetchone()
        return int(row[0]) if row else 0

    def save(self, published: Published) -> None:
        """Record a published batch: its last position and partition heads."""
        with self._db.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO relay_progress (topic, position) VALUES (%s, %s)"
                " ON CONFLICT (topic) DO UPDATE SET position = GREATEST("
                " relay_progress.position, EXCLUDED.position), updated_at = now()",
                (self.topic, published.last_position),
            )
            for partition, position in sorted(published.heads.items()):
                conn.execute(
                    "INSERT INTO relay_partition_heads (topic, partition, position)"
                    " VALUES (%s, %s, %s) ON CONFLICT (topic, partition) DO UPDATE"
                    " SET position = GREATEST(relay_partition_heads.position,"
                    " EXCLUDED.position)",
                    (self.topic, partition, position),
                )

    # -- publishing ------------------------------------------------------

    def publish(self, notifications: Sequence[Notification]) -> Published:
        """Send a batch and wait until the broker acknowledged all of it.

        Raises:
            DependencyUnavailableError: any record was not acknowledged.
        """
        producer = self._ensure_producer()
        sent = []
        for n in notifications:
            envelope = to_envelope(
                self._store.decode(n), n.id, self._settings.event_source
            )
            key, value, headers = cloudevents.encode(envelope)
            future = producer.send(self.topic, key=key, value=value, headers=headers)
            sent.append((n.id, future))
            log.debug(
                "event sent",
                extra={
                    "correlation_id": envelope.correlation_id,
                    "event_id": envelope.id,
                    "event_type": envelope.type,
                    "position": n.id,
                },
            )
        heads: dict[int, int] = {}
        try:
            producer.flush(timeout=_ACK_TIMEOUT)
            for position, future in sent:
                metadata = future.get(timeout=_ACK_TIMEOUT)
                heads[metadata.partition] = max(
                    heads.get(metadata.partition, 0), position
                )
        except KafkaError as e:
            self._drop_producer()
            raise DependencyUnavailableError("kafka", str(e)) from e
        return Published(notifications[-1].id, len(notifications), heads)

    def step(self) -> Published | None:
        """Publish and save the next batch after the saved position, if any."""
        notifications = self._store.read_after(
            self.position(), self._settings.relay_batch_size
        )
        if not notifications:
            return None
        published = self.publish(notifications)
        self.save(published)
        log.debug(
            "relay published",
            extra={"count": published.count, "position": published.last_position},
        )
        return published

    # -- running ---------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set, surviving outages of Kafka and Postgres."""
        log.info("relay started", extra={"topic": self.topic})

        @retry(
            retry=retry_if_exception_type(RETRYABLE),
            wait=wait_exponential(multiplier=0.2, max=10),
            stop=stop_when_event_set(stop),
            before_sleep=_log_wait,
            reraise=True,
        )
        def loop() -> None:
            with psycopg.connect(
                str(self._settings.database_url), autocommit=True, connect_timeout=3
            ) as listener:
                listener.execute(f'LISTEN "{EVENTS_CHANNEL}"')
                while not stop.is_set():
                    if self.step() is None:
                        self._wait_for_commit(listener)

        try:
            loop()
        except RETRYABLE:
            if not stop.is_set():
                raise
        finally:
            self._drop_producer()
            log.info("relay stopped", extra={"topic": self.topic})

    def _wait_for_commit(self, listener: psycopg.Connection[Any]) -> None:
        """Block until a commit NOTIFYs the events channel, or the poll interval."""
        for _ in listener.notifies(
            timeout=self._settings.relay_poll_seconds, stop_after=1
        ):
            break

    def close(self) -> None:
        """Close the Kafka producer (pending records are flushed first)."""
        self._drop_producer()

    def _ensure_producer(self) -> Any:
        if self._producer is None:
            self._producer = self._producer_factory()
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=5)
            except Exception:
                log.debug("producer close failed", exc_info=True)
            self._producer = None
