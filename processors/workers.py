"""Long-running workers: the relay, the projectors, the processors and the
webhook dispatcher."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from threading import Thread
from types import FrameType

from infra.bootstrap import Container, bootstrap
from infra.errors import DependencyUnavailableError
from infra.eventlog.watch import run_log_watch
from infra.heartbeat import Heartbeat
from infra.metrics.server import forget_process
from infra.notifications.render import NotificationTemplates
from infra.postgres.outbox import PostgresOutbox
from infra.settings import Settings
from infra.streaming import kafka
from processors.documents import DocumentProcessor, run_documents
from processors.housekeeping import chores
from processors.mail import OutboxDispatcher, run_outbox
from processors.notifications import NotificationProcessor, run_notifications
from processors.scheduler import (
    Scheduler,
    expiry_job,
    housekeeping_job,
    notification_jobs,
    run_scheduler,
)

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


@contextmanager
def _metrics(container: Container) -> Iterator[None]:
    """This process's metrics thread, for as long as the worker runs."""
    server = container.metrics_server()
    server.start()
    try:
        yield
    finally:
        server.close()
        forget_process()


def run_relay(settings: Settings) -> None:
    """Relay events from the store to Kafka until SIGINT/SIGTERM."""
    stop = _stop_on_signals()
    container = bootstrap(settings)
    try:
        with _metrics(container):
            _wait_for_topic(settings, stop)
            relay = container.relay()
            relay.run(stop, Heartbeat(settings.heartbeat_dir, "relay").beat)
    finally:
        container.close()


def run_projectors(settings: Settings) -> None:
    """Run every read model from one shared consumer until SIGINT/SIGTERM."""
    stop = _stop_on_signals()
    container = bootstrap(settings)

    def beat(projection: str) -> Callable[[], None]:
        return Heartbeat(settings.heartbeat_dir, f"projector-{projection}").beat

    try:
        with _metrics(container):
            _wait_for_topic(settings, stop)
            container.projector_host(beats=beat).run(stop)
    finally:
        stop.set()
        container.close()


def document_processor(
    container: Container, lease_seconds: float = 300.0
) -> DocumentProcessor:
    """The document processor on ``container``'s stores and services."""
    return DocumentProcessor(
        container.document_jobs(lease_seconds),
        container.event_store,
        container.document_builder,
        container.files,
        container.services.documents,
        container.settings.upload_max_bytes,
    )


def _worker(settings: Settings, stop: threading.Event) -> Callable[..., Thread]:
    def worker(name: str, target: Callable[..., None], *args: object) -> Thread:
        beat = Heartbeat(settings.heartbeat_dir, f"processor-{name}").beat
        return Thread(
            target=target, args=(stop, *args), kwargs={"beat": beat}, name=name
        )

    return worker


def webhook_threads(
    container: Container, worker: Callable[..., Thread]
) -> list[Thread]:
    """The webhook dispatcher: the fan-out consumer (events to deliveries)
    and the sender, which the fan-out wakes when it queued something."""
    sender = container.webhook_sender()
    fanout = container.webhook_fanout(sender.wake)
    return [
        worker("webhook-fanout", fanout.run),
        worker("webhook-sender", sender.run, container.settings.webhook_poll_seconds),
    ]


def _run_threads(
    settings: Settings,
    stop: threading.Event,
    container: Container,
    threads: list[Thread],
) -> None:
    try:
        with _metrics(container):
            _wait_for_topic(settings, stop)
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(timeout=0.5)
    finally:
        stop.set()
        container.close()


def run_webhooks(settings: Settings) -> None:
    """Run only the webhook dispatcher until SIGINT/SIGTERM."""
    stop = _stop_on_signals()
    container = bootstrap(settings)
    worker = _worker(settings, stop)
    _run_threads(settings, stop, container, webhook_threads(container, worker))


def notification_processor(container: Container) -> NotificationProcessor:
    """The notification processor on ``container``'s stores."""
    return NotificationProcessor(
        container.notifications(),
        container.progress,
        NotificationTemplates(),
        container.settings.frontend_base_url,
    )


def scheduler(
    container: Container,
    outbox: PostgresOutbox,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Scheduler:
    """The scheduler with every job, on ``container``'s stores."""
    settings = container.settings
    schedules = container.schedules()
    jobs = [
        *notification_jobs(schedules, notification_processor(container)),
        expiry_job(container.due_certificates(), container.services.certificates),
        housekeeping_job(
            chores(
                container.database,
                outbox,
                timedelta(hours=settings.idempotency_retention_hours),
                timedelta(hours=settings.outbox_retention_hours),
            )
        ),
    ]
    return Scheduler(
        schedules,
        jobs,
        container.services.calendar.time_zone,
        settings.schedule_time_of_day,
        f"{socket.gethostname()}:{os.getpid()}",
        now,
    )


def run_processors(settings: Settings) -> None:
    """Run the processors (documents, notifications, the scheduler with
    certificate expiry and housekeeping, the mail outbox, the event log
    watcher, the webhook dispatcher) until SIGINT/SIGTERM."""
    stop = _stop_on_signals()
    container = bootstrap(settings)
    outbox = container.outbox()
    log_watcher = container.log_watcher()  # no signing key: stop at start-up
    worker = _worker(settings, stop)

    threads = [
        worker("expiry-list", container.expiry_runner().run),
        worker("document-jobs", container.document_jobs_runner().run),
        worker(
            "documents",
            run_documents,
            document_processor(container),
            settings.documents_poll_seconds,
        ),
        worker(
            "scheduler",
            run_scheduler,
            scheduler(container, outbox),
            settings.expiry_check_seconds,
        ),
        worker("notification-intents", container.notification_intents_runner().run),
        worker(
            "notifications",
            run_notifications,
            notification_processor(container),
            settings.notifications_poll_seconds,
        ),
        worker(
            "outbox",
            run_outbox,
            OutboxDispatcher(outbox, container.mail_sender()),
            settings.outbox_poll_seconds,
        ),
        worker("event-log", run_log_watch, log_watcher, settings.log_watch_seconds),
        *webhook_threads(container, worker),
    ]
    _run_threads(settings, stop, container, threads)
