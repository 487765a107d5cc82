"""One Kafka consumer feeding every projection a process hosts.

Each record is fetched and read (:func:`infra.projection.parking.read`) once
and handed to every projection *lane* that is live; each lane applies it
through its own :class:`~infra.projection.runner.ProjectionRunner` in its own
transaction with its own tracking positions, parks its own poison records and
halts alone. The tracking rows, not the group's Kafka offsets, say where each
projection stands: when partitions are assigned, every lane learns its next
offset per partition from ``projection_tracking`` and the consumer is moved
back to the lowest of the live lanes' (a lane skips, without SQL, what it has
already applied by offset, and the runner's position check skips the rest).

A lane that fails leaves the shared feed, so the others go on:

* **waiting**: its batch rolled back (an outage, a table shape that awaits a
  rebuild, a ``halt`` policy's failure) and it retries after a backoff (0.2 s
  doubling to 10 s); or it is halted (a record could be neither applied nor
  parked) and it looks every ``halt_poll_seconds`` whether an operator (or a
  rebuild) cleared the halt;
* **catching up**: it reads the partitions the host holds with a consumer of
  its own, outside any group, from its own tracked offsets, one batch per
  turn of the host's loop, until it has reached the shared consumer's
  position on every partition; then it is live again.

The group's offsets are committed after each batch's live lanes committed
theirs; they serve lag monitoring, since a restart starts from the tracking
rows. A Kafka or Postgres failure of the shared consumer itself closes it and
rejoins after a backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import OffsetAndMetadata, TopicPartition

from infra.backoff import until_stopped
from infra.metrics.instruments import instruments
from infra.postgres import projection_halts
from infra.postgres.pool import Database
from infra.projection import parking
from infra.projection.halting import ProjectionStoppedError
from infra.projection.parking import Delivery
from infra.projection.runner import RETRYABLE, ProjectionRunner, log_wait

log = logging.getLogger(__name__)

GROUP = "assurehub.projectors"
"""The consumer group of the projector processes (they share partitions)."""

LIVE = "live"
WAITING = "waiting"
CATCHING_UP = "catching-up"

_MAX_BACKOFF = 10.0


@dataclass
class Lane:
    """One hosted projection: its runner, where it stands, and its state."""

    runner: ProjectionRunner
    beat: Callable[[], None] = lambda: None
    next_offsets: dict[int, int] = field(default_factory=dict)
    """Per assigned partition, the next Kafka offset it has to apply."""
    handled_time: dict[int, float] = field(default_factory=dict)
    """Per partition, when (epoch seconds) the newest event it applied or
    parked was recorded (this process's knowledge; absent: none yet)."""
    state: str = LIVE
    halted: bool = False
    failures: int = 0
    retry_at: float = 0.0
    reader: Any = None

    @property
    def name(self) -> str:
        return self.runner.projection.name

    def fresh(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """The deliveries at or past its next offset on their partition."""
        return [
            d
            for d in deliveries
            if int(d.origin.offset or 0)
            >= self.next_offsets.get(int(d.origin.partition or 0), 0)
        ]

    def advance(self, deliveries: Sequence[Delivery]) -> None:
        """Past ``deliveries`` (in offset order on each partition)."""
        last: dict[int, Delivery] = {}
        decoded: dict[int, Delivery] = {}
        for d in deliveries:
            partition = int(d.origin.partition or 0)
            last[partition] = d
            if d.envelope is not None:
                decoded[partition] = d
        for partition, d in last.items():
            following = int(d.origin.offset or 0) + 1
            if following > self.next_offsets.get(partition, 0):
                self.next_offsets[partition] = following
                newest = decoded.get(partition)
                if newest is not None and newest.envelope is not None:
                    self.handled_time[partition] = newest.envelope.time.timestamp()

    def lag_seconds(self, partition: int, behind: int, now: float) -> float | None:
        """0 when nothing is ``behind`` on ``partition``, else the age of the
        newest event handled there (``None``: none handled yet)."""
        if behind == 0:
            return 0.0
        handled = self.handled_time.get(partition)
        return None if handled is None else max(0.0, now - handled)

    def close_reader(self) -> None:
        if self.reader is not None:
            try:
                self.reader.close()
            except Exception:
                log.debug("reader close failed", exc_info=True)
            self.reader = None


class ProjectorHost:
    """Feeds every lane's projection from one consumer of ``topic``.

    Args:
        runners: One per hosted projection (their consumers are not used).
        consumer_factory: Makes the group member, given the group id.
        reader_factory: Makes a consumer outside any group (a catch-up's),
            given a client id.
        halt_poll_seconds: While a lane is halted, how often it looks
            whether the halt was cleared.
    """

    def __init__(
        self,
        runners: Sequence[ProjectionRunner],
        database: Database,
        consumer_factory: Callable[[str], Any],
        reader_factory: Callable[[str], Any],
        topic: str,
        group: str = GROUP,
        halt_poll_seconds: float = 5.0,
        beats: Callable[[str], Callable[[], None]] | None = None,
    ) -> None:
        self.lanes = [
            Lane(r, beats(r.projection.name) if beats else lambda: None)
            for r in runners
        ]
        self.topic = topic
        self.group_id = group
        self._db = database
        self._consumer_factory = consumer_factory
        self._reader_factory = reader_factory
        self._halt_poll = halt_poll_seconds
        self._consumer: Any = None
        self._assigned: frozenset[int] = frozenset()

    @property
    def assigned(self) -> frozenset[int]:
        """The partitions this process holds now."""
        return self._assigned

    def lane(self, name: str) -> Lane:
        return next(lane for lane in self.lanes if lane.name == name)

    def step(self, timeout_ms: int = 200) -> int:
        """Poll once, feed the live lanes, commit, then tend the others;
        return how many records the shared consumer delivered."""
        consumer = self._ensure_consumer()
        polled = consumer.poll(timeout_ms=timeout_ms)
        assignment = frozenset(tp.partition for tp in consumer.assignment())
        if assignment != self._assigned:
            polled = self._resync(consumer, assignment, polled)
        records = [r for recs in polled.values() for r in recs]
        if records:
            deliveries = [parking.read(r, self.topic) for r in records]
            for lane in self.lanes:
                if lane.state == LIVE:
                    self._feed(lane, deliveries)
            consumer.commit(
                {
                    tp: OffsetAndMetadata(recs[-1].offset + 1, "", -1)
                    for tp, recs in polled.items()
                    if recs
                }
            )
        self._tend(consumer)
        self._measure_lag(consumer)
        return len(records)

    def _measure_lag(self, consumer: Any) -> None:
        """Set the group's and each lane's lag per held partition (from the
        end offset the last fetch saw): in records and in seconds (0 when
        caught up, else the age of the newest event the lane handled; not
        set while this process has handled none there)."""
        metrics = instruments()
        now = time.time()
        for p in self._assigned:
            tp = TopicPartition(self.topic, p)
            end = consumer.highwater(tp)
            if end is None:
                continue
            position = int(consumer.position(tp))
            metrics.kafka_lag.labels(self.group_id, str(p)).set(max(0, end - position))
            for lane in self.lanes:
                behind = max(0, end - lane.next_offsets.get(p, 0))
                metrics.partition_lag.labels(lane.name, str(p)).set(behind)
                seconds = lane.lag_seconds(p, behind, now)
                if seconds is not None:
                    metrics.partition_lag_seconds.labels(lane.name, str(p)).set(seconds)

    def _resync(
        self, consumer: Any, assignment: frozenset[int], polled: dict[Any, list[Any]]
    ) -> dict[Any, list[Any]]:
        """Learn each lane's next offsets on ``assignment`` from its
        tracking rows and move the consumer to the lowest live one; return
        what of ``polled`` runs on from there (the rest comes again)."""
        names = [lane.name for lane in self.lanes]
        with self._db.connection() as conn:
            rows = conn.execute(
                "SELECT projection, partition, kafka_offset FROM projection_tracking"
                " WHERE topic = %s AND projection = ANY(%s) AND partition = ANY(%s)",
                (self.topic, names, sorted(assignment)),
            ).fetchall()
        tracked = {(str(n), int(p)): int(o) for n, p, o in rows}
        for lane in self.lanes:
            lane.close_reader()
            lane.next_offsets = {
                p: tracked.get((lane.name, p), -1) + 1 for p in assignment
            }
        live = [lane for lane in self.lanes if lane.state == LIVE] or self.lanes
        kept: dict[Any, list[Any]] = {}
        for p in assignment:
            tp = TopicPartition(self.topic, p)
            start = min(lane.next_offsets[p] for lane in live)
            records = polled.get(tp) or []
            if records and records[0].offset <= start <= records[-1].offset:
                kept[tp] = [r for r in records if r.offset >= start]
                consumer.seek(tp, records[-1].offset + 1)
            else:
                consumer.seek(tp, start)
        self._forget_lag(self._assigned - assignment)
        self._assigned = assignment
        log.info(
            "projector partitions assigned",
            extra={"partitions": sorted(assignment), "group": self.group_id},
        )
        return kept

    def _forget_lag(self, partitions: frozenset[int]) -> None:
        """Zero the lag gauges of partitions this process no longer holds
        (the holder's value is the largest, so it is the one reported)."""
        metrics = instruments()
        for p in partitions:
            metrics.kafka_lag.labels(self.group_id, str(p)).set(0)
            for lane in self.lanes:
                metrics.partition_lag.labels(lane.name, str(p)).set(0)
                metrics.partition_lag_seconds.labels(lane.name, str(p)).set(0)
                lane.handled_time.pop(p, None)

    def _feed(self, lane: Lane, deliveries: Sequence[Delivery]) -> None:
        """Apply what ``lane`` has not applied yet; on failure it leaves the
        shared feed (its batch rolled back)."""
        fresh = lane.fresh(deliveries)
        if not fresh:
            return
        try:
            lane.runner.apply_deliveries(fresh)
        except ProjectionStoppedError as stopped:
            self._halted(lane, stopped.reason)
        except Exception as e:
            self._wait(lane, e)
        else:
            lane.advance(fresh)
            lane.failures = 0

    def _halted(self, lane: Lane, reason: str) -> None:
        log.error(
            "projection halted: it consumes nothing until resumed",
            extra={
                "projection": lane.name,
                "reason": reason,
                "resume_with": f"assurehub projections resume {lane.name}",
            },
        )
        lane.close_reader()
        lane.state, lane.halted = WAITING, True
        lane.retry_at = time.monotonic() + self._halt_poll

    def _wait(self, lane: Lane, error: Exception) -> None:
        lane.close_reader()
        lane.failures += 1
        delay = min(_MAX_BACKOFF, 0.2 * 2 ** (lane.failures - 1))
        expected = isinstance(error, RETRYABLE)
        log.log(
            logging.WARNING if expected else logging.ERROR,
            "projection waiting for its dependencies"
            if expected
            else "projection failed on a batch; it will be delivered again",
            exc_info=None if expected else error,
            extra={
                "projection": lane.name,
                "error": str(error),
                "attempt": lane.failures,
                "retry_in_seconds": round(delay, 2),
            },
        )
        lane.state = WAITING
        lane.retry_at = time.monotonic() + delay

    def _tend(self, consumer: Any) -> None:
        """Move waiting lanes on when their time comes; give each lane that
        catches up one batch of its own."""
        for lane in self.lanes:
            if lane.state == WAITING and time.monotonic() >= lane.retry_at:
                if lane.halted and not self._halt_cleared(lane):
                    lane.retry_at = time.monotonic() + self._halt_poll
                    continue
                lane.halted = False
                lane.state = CATCHING_UP
            if lane.state == CATCHING_UP:
                self._catch_up(lane, consumer)

    def _halt_cleared(self, lane: Lane) -> bool:
        try:
            with self._db.connection() as conn:
                cleared = projection_halts.halt_of(conn, lane.name) is None
        except Exception as e:
            self._wait(lane, e)
            lane.halted = True
            return False
        if cleared:
            log.warning("projection resumed", extra={"projection": lane.name})
        return cleared

    def _catch_up(self, lane: Lane, consumer: Any) -> None:
        heads = {
            p: int(consumer.position(TopicPartition(self.topic, p)))
            for p in self._assigned
        }
        if all(lane.next_offsets.get(p, 0) >= head for p, head in heads.items()):
            lane.close_reader()
            lane.state = LIVE
            log.info("projection caught up", extra={"projection": lane.name})
            return
        try:
            if lane.reader is None:
                lane.reader = self._open_reader(lane)
            polled = lane.reader.poll(timeout_ms=50)
        except Exception as e:
            self._wait(lane, e)
            return
        records = [r for recs in polled.values() for r in recs]
        self._feed(lane, [parking.read(r, self.topic) for r in records])

    def _open_reader(self, lane: Lane) -> Any:
        reader = self._reader_factory(f"{self.group_id}.{lane.name}.catch-up")
        partitions = [TopicPartition(self.topic, p) for p in sorted(self._assigned)]
        reader.assign(partitions)
        for tp in partitions:
            reader.seek(tp, lane.next_offsets.get(tp.partition, 0))
        return reader

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, surviving outages of the shared
        consumer; lanes fail, wait and catch up on their own."""
        names = [lane.name for lane in self.lanes]
        log.info("projector started", extra={"projections": names})

        @until_stopped(stop, (Exception,), log_wait)
        def loop() -> None:
            try:
                while not stop.is_set():
                    for lane in self.lanes:
                        lane.beat()
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
            log.info("projector stopped", extra={"projections": names})

    def _ensure_consumer(self) -> Any:
        if self._consumer is None:
            self._consumer = self._consumer_factory(self.group_id)
            self._assigned = frozenset()
        return self._consumer

    def close(self) -> None:
        """Leave the group and close every catch-up reader."""
        for lane in self.lanes:
            lane.close_reader()
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)
            except Exception:
                log.debug("consumer close failed", exc_info=True)
            self._consumer = None
            self._forget_lag(self._assigned)
            self._assigned = frozenset()
