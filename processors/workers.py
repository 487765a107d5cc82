"""Long-running workers: the relay and the projectors."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from types import FrameType

from infra.bootstrap import bootstrap
from infra.errors import DependencyUnavailableError
from infra.heartbeat import Heartbeat
from infra.settings import Settings
from infra.streaming import kafka
from processors.expiry import run_expiry_checks
from processors.housekeeping import chores, run_housekeeping
from processors.mail import OutboxDispatcher, run_outbox

log = logging.getLogger(__name__)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, _: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


def _wait_for_topic(settings: Settings, stop: threading.Event) -> None:
    """Create the events topic if missing, waiting for Kafka if it is down.

    Every worker that reads or writes the topic calls it before starting: a
    consumer subscribed to a topic that does not exist yet is assigned no
    partition until its metadata refresh (minutes later), so a fresh
    installation would sit idle while the relay publishes.
    """
    while not stop.is_set():
        try:
            kafka.ensure_topic(settings)
            return
        except DependencyUnavailableError as e:
            log.warning(
                "waiting for kafka to create the topic", extra={"error": e.detail}
            )
            stop.wait(2)


def run_relay(settings: Settings) -> None:
    """Relay events from the store to Kafka until SIGINT/SIGTERM."""
    stop = _stop_on_signals()
    container = bootstrap(settings)
    try:
        _wait_for_topic(settings, stop)
        container.relay().run(stop, Heartbeat(settings.heartbeat_dir, "relay").beat)
    finally:
        container.close()


def run_projectors(settings: Settings) -> None:
    """Run every projection's consumer until SIGINT/SIGTERM."""
    stop = _stop_on_signals()
    container = bootstrap(settings)
    threads = [
        threading.Thread(
            target=runner.run,
            args=(
                stop,
                Heartbeat(
                    settings.heartbeat_dir, f"projector-{runner.projection.name}"
                ).beat,
            ),
            name=runner.projection.name,
        )
        for runner in container.projectors()
    ]
    try:
        _wait_for_topic(settings, stop)
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.5)
    finally:
        stop.set()
        container.close()


def run_processors(settings: Settings) -> None:
    """Run the processors (certificate expiry, housekeeping, the mail
    outbox) until SIGINT/SIGTERM."""
    stop = _stop_on_signals()
    container = bootstrap(settings)
    runner = container.expiry_runner()
    outbox = container.outbox()
    threads = [
        threading.Thread(
            target=runner.run,
            args=(
                stop,
                Heartbeat(settings.heartbeat_dir, "processor-expiry-list").beat,
            ),
            name="expiry-projection",
        ),
        threading.Thread(
            target=run_expiry_checks,
            args=(
                stop,
                container.due_certificates(),
                container.services.certificates,
                settings.expiry_check_seconds,
                container.services.calendar.today,
            ),
            kwargs={
                "beat": Heartbeat(
                    settings.heartbeat_dir, "processor-expiry-checks"
                ).beat
            },
            name="expiry-checks",
        ),
        threading.Thread(
            target=run_housekeeping,
            args=(
                stop,
                chores(
                    container.database,
                    outbox,
                    timedelta(hours=settings.idempotency_retention_hours),
                    timedelta(hours=settings.outbox_retention_hours),
                ),
                settings.expiry_check_seconds,
            ),
            kwargs={
                "beat": Heartbeat(settings.heartbeat_dir, "processor-housekeeping").beat
            },
            name="housekeeping",
        ),
        threading.Thread(
            target=run_outbox,
            args=(
                stop,
                OutboxDispatcher(outbox, container.mail_sender()),
                settings.outbox_poll_seconds,
            ),
            kwargs={"beat": Heartbeat(settings.heartbeat_dir, "processor-outbox").beat},
            name="outbox",
        ),
    ]
    try:
        _wait_for_topic(settings, stop)
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.5)
    finally:
        stop.set()
        container.close()
