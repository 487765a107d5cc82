"""The scheduler: time-based jobs, once per tenant and day, at a time of day
in each tenant's time zone.

Every ``interval`` it works out, per job and tenant, the latest day whose run
time has come (today once the tenant's clock reads ``run_at``, yesterday
before), and runs the job for that day unless ``schedule_runs`` already
holds a run of it (:class:`~infra.postgres.schedules.PostgresSchedules`).
Claiming the run is one insert on the run's primary key, so several
instances run each job once per tenant and day; a day missed while
everything was down is run once on start (only the latest: the jobs look at
state, not at the day's events, so one run catches up). A run that fails is
recorded and retried on the next pass.

Jobs act through commands (expiry) or queue notifications in the outbox,
keyed by what they are about (the finding and its due date, the certificate
and its warning threshold or surveillance cycle), so a job run twice never
notifies twice.

=============================  =================================================
``corrective_actions``         corrective actions due within 7 days, and
                               overdue ones: the client administrators and the
                               lead auditor, once per due date
``certificate_expiry_warnings``  certificates in force expiring within 90, 60
                               and 30 days: programme managers and client
                               administrators, once per threshold
``surveillance_due``           active certificates whose next surveillance
                               (:mod:`domain.surveillance`) is due within 60
                               days with no surveillance audit in hand:
                               programme managers, once per certificate and
                               cycle
``certificate_expiry``         ``expire`` for certificates whose expiry date has
                               come (the ``certificate.expired`` event then
                               notifies)
``housekeeping``               the processors' chores, once a day (UTC)
=============================  =================================================
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from commands.certificates import CertificateService
from domain.notifications import NotificationKind
from domain.surveillance import (
    SURVEILLANCE_NOTICE_DAYS,
    next_surveillance,
    surveillance_in_hand,
)
from infra.backoff import poll
from infra.postgres.certificate_expiry import PostgresDueCertificates
from infra.postgres.schedules import PostgresSchedules
from processors.expiry import expire_tenant
from processors.housekeeping import Chore
from processors.notifications import NotificationProcessor

log = logging.getLogger(__name__)

EVERY_TENANT = "*"
"""The tenant of a job that runs once for the installation."""

DUE_SOON_DAYS = 7
EXPIRY_WARNINGS = (30, 60, 90)


@dataclass(frozen=True)
class Job:
    """One scheduled job: ``run(tenant, day)`` does it and says what it did."""

    name: str
    run: Callable[[str, date], str]
    per_tenant: bool = True


class Scheduler:
    """Runs due jobs once per tenant and day.

    Args:
        schedules: Run records and the tenants to serve.
        jobs: What to run.
        zone_of: The tenant's time zone name.
        run_at: The time of day (tenant's clock) the jobs run at.
        owner: This instance's name, recorded with its runs.
        now: The clock.
    """

    def __init__(
        self,
        schedules: PostgresSchedules,
        jobs: Sequence[Job],
        zone_of: Callable[[str], str],
        run_at: time,
        owner: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._schedules = schedules
        self._jobs = tuple(jobs)
        self._zone_of = zone_of
        self._run_at = run_at
        self._owner = owner
        self._now = now

    def due_day(self, tenant_id: str, now: datetime) -> date:
        """The latest day whose run time has come in ``tenant_id``'s zone."""
        zone = "UTC" if tenant_id == EVERY_TENANT else self._zone_of(tenant_id)
        local = now.astimezone(ZoneInfo(zone))
        if local.time() >= self._run_at:
            return local.date()
        return local.date() - timedelta(days=1)

    def tick(self) -> int:
        """Run every job that is due; return how many runs this instance did."""
        now = self._now()
        tenants = self._schedules.tenants()
        ran = 0
        for job in self._jobs:
            for tenant in tenants if job.per_tenant else [EVERY_TENANT]:
                day = self.due_day(tenant, now)
                if self._schedules.claim(job.name, tenant, day, self._owner):
                    self._run(job, tenant, day)
                    ran += 1
        return ran

    def _run(self, job: Job, tenant: str, day: date) -> None:
        try:
            outcome = job.run(tenant, day)
        except Exception as e:  # recorded; retried on the next pass
            log.exception(
                "scheduled job failed",
                extra={"job": job.name, "tenant_id": tenant, "day": str(day)},
            )
            self._schedules.finish(
                job.name, tenant, day, self._owner, False, f"{type(e).__name__}: {e}"
            )
            return
        log.info(
            "scheduled job ran",
            extra={"job": job.name, "tenant_id": tenant, "outcome": outcome},
        )
        self._schedules.finish(job.name, tenant, day, self._owner, True, outcome)


def notification_jobs(
    schedules: PostgresSchedules, notifier: NotificationProcessor
) -> list[Job]:
    """The jobs that queue reminders and warnings."""

    def queue(
        tenant: str,
        kind: NotificationKind,
        subject: UUID,
        facts: dict[str, object],
        occurrence: str,
    ) -> int:
        context = notifier.context(tenant, kind, subject, facts)
        mails = notifier.render(tenant, kind, context)
        return notifier.queue(tenant, kind, occurrence, mails)

    def corrective_actions(tenant: str, day: date) -> str:
        queued = 0
        until = day + timedelta(days=DUE_SOON_DAYS)
        for row in schedules.due_actions(tenant, until):
            due: date = row["due_date"]
            kind = (
                NotificationKind.CORRECTIVE_ACTION_OVERDUE
                if due < day
                else NotificationKind.CORRECTIVE_ACTION_DUE
            )
            occurrence = f"{kind.value}:{row['id']}:{due.isoformat()}"
            facts: dict[str, Any] = {"finding_id": str(row["id"])}
            queued += queue(tenant, kind, row["audit_id"], facts, occurrence)
        return f"{queued} e-mails queued"

    def expiry_warnings(tenant: str, day: date) -> str:
        queued = 0
        until = day + timedelta(days=max(EXPIRY_WARNINGS))
        for row in schedules.expiring(tenant, day, until):
            days = (row["expiry_date"] - day).days
            threshold = min(t for t in EXPIRY_WARNINGS if days <= t)
            kind = NotificationKind.CERTIFICATE_EXPIRING
            occurrence = f"{kind.value}:{row['id']}:{threshold}"
            queued += queue(tenant, kind, row["id"], {"days": days}, occurrence)
        return f"{queued} e-mails queued"

    def surveillance_due(tenant: str, day: date) -> str:
        queued = 0
        until = day + timedelta(days=SURVEILLANCE_NOTICE_DAYS)
        # a cycle is at most 366 days: it began on or after this
        audits = schedules.surveillance_audits(tenant, day - timedelta(days=366))
        for row in schedules.active_certificates(tenant, day):
            due = next_surveillance(
                row["decision_date"], row["effective_date"], row["expiry_date"], day
            )
            if due is None or due.due > until:
                continue
            held = audits.get((row["organization_id"], row["standard_name"]), [])
            if surveillance_in_hand(held, due.since):
                continue
            kind = NotificationKind.SURVEILLANCE_DUE
            occurrence = f"{kind.value}:{row['id']}:{due.cycle}"
            facts: dict[str, object] = {"surveillance_due": due.due}
            queued += queue(tenant, kind, row["id"], facts, occurrence)
        return f"{queued} e-mails queued"

    return [
        Job("corrective_actions", corrective_actions),
        Job("certificate_expiry_warnings", expiry_warnings),
        Job("surveillance_due", surveillance_due),
    ]


def expiry_job(due: PostgresDueCertificates, certificates: CertificateService) -> Job:
    """``expire`` for the certificates whose expiry date has come."""

    def run(tenant: str, day: date) -> str:
        return f"{expire_tenant(due, certificates, tenant, day)} certificates expired"

    return Job("certificate_expiry", run)


def housekeeping_job(chores: Sequence[Chore]) -> Job:
    """The chores, once a day for the installation."""

    def run(_: str, __: date) -> str:
        done = [f"{chore.done}: {chore.run()}" for chore in chores]
        return "; ".join(done)

    return Job("housekeeping", run, per_tenant=False)


def run_scheduler(
    stop: threading.Event,
    scheduler: Scheduler,
    interval_seconds: float,
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Run due jobs once per interval until ``stop`` is set."""

    def once() -> bool:
        scheduler.tick()
        return False  # one pass per interval

    poll(
        stop,
        once,
        interval_seconds,
        beat,
        log,
        "scheduler pass failed; retrying next interval",
    )
