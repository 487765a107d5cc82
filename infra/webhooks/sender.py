"""The webhook sender: claims due deliveries and POSTs them, signed.

Each tick claims a batch (:meth:`PostgresWebhooks.claim_due`: only the next
delivery of each subscription and aggregate, so order per aggregate holds)
and sends it on a thread pool. Before every attempt the target is resolved
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

from infra.postgres.webhooks import DueDelivery, PostgresWebhooks
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

    Args:
        queue: The deliveries.
        policy: Where targets may be.
        transport: Sends one POST.
        retry: Backoff and the give-up window.
        lease_seconds: How long a claimed delivery is not handed out again.
        batch: Deliveries claimed per tick.
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
        self._in_flight = 0
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

    def _deliver(self, due: DueDelivery) -> bool:
        """Attempt one delivery and record how it went."""
        started_at = datetime.now(UTC)
        outcome = self.attempt(due)
        retry_in = None if outcome.ok else self._retry.delay(due.attempt)
        paused = self._queue.record(
            due,
            started_at,
            outcome.latency_ms,
            outcome.status_code,
            outcome.error,
            retry_in,
            self._retry.give_up_after_seconds,
        )
        if not outcome.ok:
            log.warning(
                "webhook not delivered; will retry",
                extra={
                    "subscription_id": str(due.subscription_id),
                    "delivery_id": str(due.delivery_id),
                    "tenant_id": due.tenant_id,
                    "attempt": due.attempt,
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                    "retry_in_seconds": retry_in,
                },
            )
        if paused:
            log.error(
                "webhook subscription paused: deliveries kept failing",
                extra={
                    "subscription_id": str(due.subscription_id),
                    "tenant_id": due.tenant_id,
                },
            )
        return outcome.ok

    def tick(self) -> int:
        """Claim as many deliveries as there are free senders and start
        them; return how many were claimed."""
        with self._slots:
            free = self._concurrency - self._in_flight
        if free <= 0:
            return 0
        claimed = self._queue.claim_due(min(free, self.batch), self._lease)
        with self._slots:
            self._in_flight += len(claimed)
        for due in claimed:
            self._pool.submit(self._deliver_and_release, due)
        return len(claimed)

    def _deliver_and_release(self, due: DueDelivery) -> None:
        try:
            self._deliver(due)
        except Exception:
            log.exception(
                "webhook attempt not recorded; it is sent again after its lease",
                extra={"delivery_id": str(due.delivery_id)},
            )
        finally:
            with self._slots:
                self._in_flight -= 1
                self._slots.notify_all()
            self._done.set()

    def drain(self, timeout: float) -> None:
        """Wait until no POST is in flight (or ``timeout`` passed)."""
        deadline = time.monotonic() + timeout
        with self._slots:
            while self._in_flight and time.monotonic() < deadline:
                self._slots.wait(deadline - time.monotonic())

    def run(
        self,
        stop: threading.Event,
        poll_seconds: float,
        beat: Callable[[], None] = lambda: None,
    ) -> None:
        """Send until ``stop`` is set: again at once after a tick that
        claimed something, else when woken, a POST ends, or after
        ``poll_seconds``."""
        while not stop.is_set():
            beat()
            self._done.clear()
            try:
                busy = self.tick() > 0
            except Exception:
                log.exception("webhook sending failed; retrying")
                busy = False
                stop.wait(1)
            if not busy:
                self._done.wait(poll_seconds)
        self.close()

    def wake(self) -> None:
        """Look for due deliveries now (new ones were queued)."""
        self._done.set()

    def close(self) -> None:
        """Stop the pool (waits for POSTs in flight)."""
        self._pool.shutdown(wait=True)
