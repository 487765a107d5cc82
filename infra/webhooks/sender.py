"""The webhook sender: claims due deliveries and POSTs them, signed.

Each tick records the attempts finished since the last one and claims a
batch (:meth:`PostgresWebhooks.settle`: only the next delivery of each
subscription and aggregate, so order per aggregate holds) in one
transaction, and sends the batch on a thread pool over kept-alive
connections. Before every attempt the target is resolved
and checked again (:class:`TargetPolicy`) and the connection goes to that
checked address. A ``2xx`` answer delivers; anything else (an error, a
timeout, a redirect, another status) schedules the next attempt after
``min(base * 2**(attempt-1), cap)`` seconds with full jitter (a random
share between half and all of it). Once a delivery's failures have lasted
``give_up_after_seconds`` its subscription is paused and the tenant's
administrators are e-mailed; its deliveries wait for a resume.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from infra.errors import DatabaseContentionError
from infra.postgres.webhooks import AttemptOutcome, DueDelivery, PostgresWebhooks
from infra.webhooks import signing
from infra.webhooks.targets import TargetPolicy, UnsafeTargetError
from infra.webhooks.transport import HttpTransport, Outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again and when to give up.

    Attributes:
        base_seconds: Wait after the first failed attempt; doubles.
        cap_seconds: The longest wait.
        give_up_after_seconds: How long failures may last before the
            subscription is paused.
    """

    base_seconds: float
    cap_seconds: float
    give_up_after_seconds: float

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds before the attempt after ``attempt`` (1-based)."""
        exponent = min(max(attempt - 1, 0), 40)
        full = min(self.base_seconds * 2.0**exponent, self.cap_seconds)
        return float(full * (0.5 + 0.5 * rand()))


class WebhookSender:
    """Delivers due webhooks.

    One loop (:meth:`run`) does all the bookkeeping: each :meth:`tick`
    records the outcomes the senders finished since the last one and claims
    due deliveries, in one transaction (:meth:`PostgresWebhooks.settle`);
    the senders only sign and POST. Up to twice ``concurrency`` deliveries
    are held at once (in flight or waiting for a sender), so senders never
    wait for a tick; a held delivery is sent within two attempt timeouts of
    its claim, which the lease must outlast.

    Args:
        queue: The deliveries.
        policy: Where targets may be.
        transport: Sends one POST.
        retry: Backoff and the give-up window.
        lease_seconds: How long a claimed delivery is not handed out again;
            more than two attempt timeouts.
        batch: Deliveries claimed per tick at most.
        concurrency: POSTs in flight at once.
    """

    def __init__(
        self,
        queue: PostgresWebhooks,
        policy: TargetPolicy,
        transport: HttpTransport,
        retry: RetryPolicy,
        lease_seconds: float,
        batch: int = 100,
        concurrency: int = 8,
    ) -> None:
        self._queue = queue
        self._policy = policy
        self._transport = transport
        self._retry = retry
        self._lease = lease_seconds
        self.batch = batch
        self._concurrency = concurrency
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")
        self._slots = threading.Condition()
        self._held = 0
        self._finished: list[AttemptOutcome] = []
        self._unsent: list[DueDelivery] = []
        self._stopping = threading.Event()
        self._done = threading.Event()

    def attempt(self, due: DueDelivery) -> Outcome:
        """Check the target, sign and POST one delivery (no bookkeeping)."""
        started = time.monotonic()
        try:
            target = self._policy.resolve(due.url)
        except UnsafeTargetError as e:
            return Outcome(None, f"target refused: {e}", 0)
        body = due.body.encode()
        headers = signing.headers(due.secrets, due.event_id, int(time.time()), body)
        outcome = self._transport.post(target, headers, body)
        latency = int((time.monotonic() - started) * 1000)
        return Outcome(outcome.status_code, outcome.error, latency)

    def _send(self, due: DueDelivery) -> None:
        """Attempt one delivery (a sender thread) and hand its outcome to
        the next tick."""
        finished: AttemptOutcome | None = None
        if self._stopping.is_set():
            with self._slots:
                self._held -= 1
                self._unsent.append(due)
            return
        try:
            started_at = datetime.now(UTC)
            outcome = self.attempt(due)
            retry_in = None if outcome.ok else self._retry.delay(due.attempt)
            finished = AttemptOutcome(
                due,
                started_at,
                outcome.latency_ms,
                outcome.status_code,
                outcome.error,
                retry_in,
            )
        except Exception:
            log.exception(
                "webhook attempt failed; it is sent again after its lease",
                extra={"delivery_id": str(due.delivery_id)},
            )
        finally:
            with self._slots:
                self._held -= 1
                if finished is not None:
                    self._finished.append(finished)
                self._slots.notify_all()
            self._done.set()

    def tick(self) -> int:
        """Record the finished attempts and claim deliveries up to twice
        the senders, then queue them to the senders; return how many
        outcomes were recorded and deliveries claimed."""
        with self._slots:
            finished, self._finished = self._finished, []
            free = min(2 * self._concurrency - self._held, self.batch)
        if not finished and free <= 0:
            return 0
        try:
            paused, claimed = self._queue.settle(
                finished, free, self._lease, self._retry.give_up_after_seconds
            )
        except Exception:
            with self._slots:  # recorded by a later tick (or sent again)
                self._finished[:0] = finished
            raise
        with self._slots:
            self._held += len(claimed)
        for due in claimed:
            self._pool.submit(self._send, due)
        _log_outcomes(finished, paused)
        return len(finished) + len(claimed)

    def drain(self, timeout: float) -> None:
        """Wait until no delivery is held (or ``timeout`` passed)."""
        deadline = time.monotonic() + timeout
        with self._slots:
            while self._held and time.monotonic() < deadline:
                self._slots.wait(deadline - time.monotonic())

    def run(
        self,
        stop: threading.Event,
        poll_seconds: float,
        beat: Callable[[], None] = lambda: None,
    ) -> None:
        """Send until ``stop`` is set: again at once after a tick that did
        something or that the database aborted (a deadlock or serialization
        conflict; its outcomes are recorded by the next), else when woken,
        a POST ends, or after ``poll_seconds``; on stopping, the POSTs in
        flight end, their outcomes are recorded and the deliveries not yet
        sent are given back (due at once)."""
        while not stop.is_set():
            beat()
            self._done.clear()
            try:
                busy = self.tick() > 0
            except DatabaseContentionError as e:
                log.warning(
                    "webhook round aborted by database contention; retrying",
                    extra={"error": e.detail},
                )
                busy = True  # nothing was written: run the round again now
            except Exception:
                log.exception("webhook sending failed; retrying")
                busy = False
                stop.wait(1)
            if not busy:
                self._done.wait(poll_seconds)
        self.close()
        try:
            self._record_finished()
        except Exception:
            log.exception("webhook outcomes not recorded; sent again after lease")

    def _record_finished(self) -> None:
        """Record what was sent and give back what was not."""
        with self._slots:
            finished, self._finished = self._finished, []
            unsent, self._unsent = self._unsent, []
        if finished or unsent:
            paused, _ = self._queue.settle(
                finished,
                0,
                self._lease,
                self._retry.give_up_after_seconds,
                release=unsent,
            )
            _log_outcomes(finished, paused)

    def wake(self) -> None:
        """Look for due deliveries now (new ones were queued)."""
        self._done.set()

    def close(self) -> None:
        """Stop the pool (waits for POSTs in flight; the deliveries waiting
        for a sender are not sent) and the connections."""
        self._stopping.set()
        self._pool.shutdown(wait=True)
        self._transport.close()


def _log_outcomes(finished: list[AttemptOutcome], paused: list[UUID]) -> None:
    for o in finished:
        if o.retry_in_seconds is None:
            continue
        log.warning(
            "webhook not delivered; will retry",
            extra={
                "subscription_id": str(o.due.subscription_id),
                "delivery_id": str(o.due.delivery_id),
                "tenant_id": o.due.tenant_id,
                "attempt": o.due.attempt,
                "status_code": o.status_code,
                "error": o.error,
                "retry_in_seconds": o.retry_in_seconds,
            },
        )
    tenants = {o.due.subscription_id: o.due.tenant_id for o in finished}
    for subscription_id in paused:
        log.error(
            "webhook subscription paused: deliveries kept failing",
            extra={
                "subscription_id": str(subscription_id),
                "tenant_id": tenants[subscription_id],
            },
        )
