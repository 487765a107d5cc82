"""The relay: tails the event store in position order and publishes to Kafka.

At-least-once: a batch's position is saved in Postgres only after the broker
acknowledged every record of it, so a crash between publish and save
republishes (duplicates, never gaps); consumers deduplicate by ``ce_id`` or
position. It wakes on the NOTIFY the store sends in every insert transaction,
and polls as a fallback. When Kafka or Postgres is down it logs what it waits
for and retries with exponential backoff. Several relay processes may run:
only the one holding the topic's Postgres advisory lock publishes; the others
stand by and one takes over within about a second of the holder's session
ending (its process stopped or killed).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.persistence import Notification
from kafka.errors import KafkaError
from tenacity import RetryCallState

from infra.backoff import until_stopped
from infra.errors import DependencyUnavailableError
from infra.eventstore.store import EVENTS_CHANNEL, LibraryEventStore
from infra.postgres.pool import Database
from infra.settings import Settings
from infra.streaming import cloudevents
from infra.streaming.public_events import personal_view
from infra.streaming.stored_envelopes import StoredEnvelopes
from infra.trace_context import trace_id

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
            "dependency": getattr(error, "dependency", type(error).__name__),
            "attempt": state.attempt_number,
            "retry_in_seconds": round(state.upcoming_sleep, 2),
        },
    )


def _lock_key(topic: str) -> int:
    """The advisory lock one relay per topic holds (a signed 64-bit key)."""
    digest = hashlib.sha256(f"assurehub.relay:{topic}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


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
        self._envelopes = StoredEnvelopes(store, settings.event_source)
        self._db = database
        self._producer_factory = producer_factory
        self._producer: Any = None
        self.topic = topic or settings.kafka_topic
        self._saved: int | None = None
        """The position this relay last read or saved (``None``: ask the table)."""

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
        personal = self._store.personal
        envelopes = [
            personal_view(self._envelopes.envelope(n, n.id), personal, reveal=False)
            for n in notifications
        ]
        heads: dict[int, int] = {}
        try:
            producer = self._ensure_producer()
            sent = []
            for envelope in envelopes:
                key, value, headers = cloudevents.encode(envelope)
                sent.append(
                    (
                        envelope.position,
                        producer.send(
                            self.topic, key=key, value=value, headers=headers
                        ),
                    )
                )
            producer.flush(timeout=_ACK_TIMEOUT)
            for position, future in sent:
                metadata = future.get(timeout=_ACK_TIMEOUT)
                heads[metadata.partition] = max(
                    heads.get(metadata.partition, 0), position
                )
        except KafkaError as e:
            self._drop_producer()
            raise DependencyUnavailableError("kafka", str(e)) from e
        log.info(
            "events published",
            extra={
                "topic": self.topic,
                "count": len(envelopes),
                "first_position": envelopes[0].position,
                "last_position": envelopes[-1].position,
                "correlation_ids": sorted({e.correlation_id for e in envelopes})[:20],
                "trace_ids": sorted(
                    {trace_id(e.traceparent) for e in envelopes if e.traceparent}
                )[:20]
                or None,
            },
        )
        return Published(notifications[-1].id, len(notifications), heads)

    def step(self) -> Published | None:
        """Publish and save the next batch after the saved position, if any.

        The saved position is read from the table once, then remembered as
        this relay saves it (one query less per batch). After a failure it
        is read again: what was saved is what counts. (With two relays on
        one topic, which is not how it runs, one could publish again what
        the other did: duplicates, which at-least-once delivery allows.)
        """
        try:
            if self._saved is None:
                self._saved = self.position()
            notifications = self._store.read_after(
                self._saved, self._settings.relay_batch_size
            )
            if not notifications:
                return None
            published = self.publish(notifications)
            self.save(published)
        except BaseException:
            self._saved = None
            raise
        self._saved = published.last_position
        return published

    # -- running ---------------------------------------------------------

    leading = False
    """Whether :meth:`run` holds the topic's relay lock (it publishes)."""

    def run(
        self, stop: threading.Event, beat: Callable[[], None] = lambda: None
    ) -> None:
        """Relay until ``stop`` is set, surviving outages of Kafka and Postgres."""
        log.info("relay started", extra={"topic": self.topic})

        @until_stopped(stop, RETRYABLE, _log_wait)
        def loop() -> None:
            with self._listen() as listener:
                self._lead(listener, stop, beat)
                while not stop.is_set():
                    beat()
                    if self.step() is None:
                        self._wait_for_commit(listener)

        try:
            loop()
        except RETRYABLE:
            if not stop.is_set():
                raise
        finally:
            self.leading = False
            self._drop_producer()
            log.info("relay stopped", extra={"topic": self.topic})

    def _lead(
        self,
        listener: psycopg.Connection[Any],
        stop: threading.Event,
        beat: Callable[[], None],
    ) -> None:
        """Return once this relay holds the topic's advisory lock (on its
        listening session, so the lock goes when the process or the session
        dies); until then stand by, beating, trying every second."""
        waiting = False
        while not stop.is_set():
            row = listener.execute(
                "SELECT pg_try_advisory_lock(%s)", (_lock_key(self.topic),)
            ).fetchone()
            if row and row[0]:
                self._saved = None  # another relay may have moved it meanwhile
                self.leading = True
                log.info("relay leading: it publishes", extra={"topic": self.topic})
                return
            if not waiting:
                log.info(
                    "relay standing by: another relay publishes",
                    extra={"topic": self.topic},
                )
                waiting = True
            beat()
            stop.wait(1.0)

    @contextmanager
    def _listen(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection LISTENing on the channel every insert NOTIFYs."""
        try:
            conn = psycopg.connect(
                str(self._settings.database_url), autocommit=True, connect_timeout=3
            )
        except psycopg.OperationalError as e:
            raise DependencyUnavailableError("postgres", str(e)) from e
        with conn:
            conn.execute(f'LISTEN "{EVENTS_CHANNEL}"')
            yield conn

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
