"""A sender round the database aborted (deadlock, serialization conflict)
is run again at once and logged as a warning, not as a failure."""

from __future__ import annotations

import logging
import threading

from infra.errors import DatabaseContentionError
from infra.webhooks.sender import RetryPolicy, WebhookSender
from infra.webhooks.targets import TargetPolicy
from infra.webhooks.transport import HttpTransport


class AbortedOnce:
    """A queue whose first settle loses a deadlock."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.calls = 0

    def settle(self, outcomes, limit, lease, window, release=()):
        self.calls += 1
        if self.calls == 1:
            raise DatabaseContentionError("deadlock detected")
        self.stop.set()
        return [], []


def test_a_round_lost_to_contention_is_run_again_and_logged_as_a_warning(caplog):
    stop = threading.Event()
    queue = AbortedOnce(stop)
    sender = WebhookSender(
        queue,  # type: ignore[arg-type]
        TargetPolicy(True),
        HttpTransport(5, 1024),
        RetryPolicy(1, 1, 60),
        lease_seconds=30,
    )
    with caplog.at_level(logging.WARNING, logger="infra.webhooks.sender"):
        sender.run(stop, poll_seconds=0.05)

    assert queue.calls == 2
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "contention" in record.getMessage()
