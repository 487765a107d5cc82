"""The outbox dispatcher: sends the notification e-mails commands recorded.

Once per interval it claims the due messages (:class:`PostgresOutbox`), hands
each to the :class:`MailSender` and records the outcome. A message that
fails is retried later with backoff; it never holds up the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from infra.backoff import poll
from infra.mail import MailSender
from infra.postgres.outbox import PostgresOutbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tick:
    """What one pass over the outbox did."""

    sent: int
    failed: int

    @property
    def claimed(self) -> int:
        return self.sent + self.failed


class OutboxDispatcher:
    """Sends due outbox messages.

    Args:
        outbox: Where messages are claimed and marked.
        sender: How they are sent.
        batch: Messages claimed per tick.
    """

    def __init__(
        self, outbox: PostgresOutbox, sender: MailSender, batch: int = 50
    ) -> None:
        self._outbox = outbox
        self._sender = sender
        self.batch = batch

    def tick(self) -> Tick:
        """Claim, send and mark one batch of due messages."""
        sent = failed = 0
        for mail in self._outbox.claim_due(self.batch):
            try:
                self._sender.send(mail)
            except Exception as e:  # any failure of one message is recorded
                failed += 1
                log.warning(
                    "notification not sent; will retry",
                    extra={
                        "message_id": str(mail.message_id),
                        "tenant_id": mail.tenant_id,
                        "attempts": mail.attempts,
                        "error": type(e).__name__,
                    },
                )
                self._outbox.mark_failed(mail.message_id, f"{type(e).__name__}: {e}")
                continue
            self._outbox.mark_sent(mail.message_id)
            sent += 1
        if sent:
            log.info("notifications sent", extra={"count": sent})
        return Tick(sent, failed)


def run_outbox(
    stop: threading.Event,
    dispatcher: OutboxDispatcher,
    interval_seconds: float,
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Dispatch until ``stop`` is set: again at once after a full batch,
    else after ``interval_seconds``."""
    poll(
        stop,
        lambda: dispatcher.tick().claimed >= dispatcher.batch,
        interval_seconds,
        beat,
        log,
        "outbox dispatch failed; retrying next interval",
    )
