"""The scheduler on real Postgres and Kafka with a fake clock: two instances
at once run each job once per tenant and day, a missed day is caught up once,
and the jobs' reminders, warnings and expiries happen once."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.certificate import Certificate
from infra.bootstrap import Container
from processors.workers import scheduler
from tests.conftest import Background
from tests.integration.test_notifications import Scene, by_person, outbox, settle


@pytest.fixture(scope="module")
def scheduling(notifying: Container) -> Iterator[Container]:
    """The scheduling pipeline, with the expiry job's list of certificates."""
    background = Background()
    runner = notifying.expiry_runner()
    background.start(runner.run, runner.projection.name)
    yield notifying
    background.close()


def caught_up(container: Container, position: int) -> None:
    settle(container, position)
    deadline = time.monotonic() + 60
    while not container.progress.has_reached("certificate_expiry", position):
        assert time.monotonic() < deadline, "the expiry list did not catch up"
        time.sleep(0.05)


def a_day() -> date:
    """A day no other run used: the run records are per day."""
    return date(2040, 1, 1) + timedelta(days=random.randrange(20_000))


def certificate(scene: Scene, expiry: date) -> Certificate:
    return Certificate.issue(
        scene.meta,
        number=f"NV-2026-{uuid.uuid4().int % 10**6:06d}",
        organization_id=scene.org_a.id,
        site_ids=(scene.site,),
        site_scopes=("Valves",),
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_id=scene.audit.id,
        decision_date=expiry - timedelta(days=1000),
        issue_date=expiry - timedelta(days=1000),
        effective_date=expiry - timedelta(days=1000),
        expiry_date=expiry,
    )


def runs(container, tenant: str) -> Counter[tuple[str, str]]:
    with container.database.connection() as conn:
        rows = conn.execute(
            "SELECT job, status FROM schedule_runs WHERE tenant_id = %s", (tenant,)
        ).fetchall()
    return Counter((job, status) for job, status in rows)


def test_two_schedulers_run_each_job_once_per_tenant_and_day(scheduling):
    day = a_day()
    scene = Scene()
    meta, audit = scene.meta, scene.audit
    audit.assign_team(meta, scene.id("lead"), ())
    audit.start(meta, day - timedelta(days=30))
    soon = audit.raise_finding(meta, "7.1", "minor_nonconformity", "No", "Seen", day)
    late = audit.raise_finding(meta, "8.1", "minor_nonconformity", "No", "Seen", day)
    audit.raise_finding(meta, "9.1", "observation", "Note", "Seen", day)
    client = scene.as_("client_a")
    audit.submit_response(client, soon, "C", "F", "A", day + timedelta(days=5))
    audit.submit_response(client, late, "C", "F", "A", day)
    expiring = certificate(scene, day + timedelta(days=45))
    ending = certificate(scene, day)
    recorded = scheduling.event_store.append(
        scene.org_a, *scene.accounts.values(), audit, expiring, ending
    )
    caught_up(scheduling, recorded)

    # The tenant's clock reads 03:00 on the day after ``late`` was due.
    now = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
    clock = now + timedelta(hours=3)
    outbox_store = scheduling.outbox()
    first = scheduler(scheduling, outbox_store, lambda: clock)
    second = scheduler(scheduling, outbox_store, lambda: clock)
    done: list[int] = []
    threads = [
        threading.Thread(target=lambda s=s: done.append(s.tick()))
        for s in (first, second)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert first.tick() == second.tick() == 0  # nothing left for the day

    assert runs(scheduling, scene.tenant) == {
        ("corrective_actions", "succeeded"): 1,
        ("certificate_expiry_warnings", "succeeded"): 1,
        ("certificate_expiry", "succeeded"): 1,
    }
    people = by_person(scene, outbox(scheduling, scene.tenant))
    assert people["client_a"] == Counter(
        {
            "corrective_action_due": 1,
            "corrective_action_overdue": 1,
            "certificate_expiring": 1,
        }
    )
    assert people["lead"] == Counter(
        {"corrective_action_due": 1, "corrective_action_overdue": 1}
    )
    assert people["manager"] == Counter({"certificate_expiring": 1})
    stored = scheduling.event_store.load(Certificate, ending.id)
    assert stored.status.value == "expired"


def test_a_missed_day_is_caught_up_once_and_the_next_day_runs_at_its_time(scheduling):
    day = a_day()
    scene = Scene()
    scene.audit.assign_team(scene.meta, scene.id("lead"), ())
    recorded = scheduling.event_store.append(
        scene.org_a,
        *scene.accounts.values(),
        scene.audit,
        certificate(scene, day + timedelta(days=400)),
    )
    caught_up(scheduling, recorded)
    midnight = datetime.combine(day, datetime.min.time(), UTC)
    clock = [midnight + timedelta(hours=1)]  # before today's run time (02:00)
    instance = scheduler(scheduling, scheduling.outbox(), lambda: clock[0])

    assert instance.tick() > 0  # yesterday's runs, missed, caught up
    assert instance.tick() == 0
    with scheduling.database.connection() as conn:
        periods = conn.execute(
            "SELECT DISTINCT period FROM schedule_runs WHERE tenant_id = %s",
            (scene.tenant,),
        ).fetchall()
    assert [p[0] for p in periods] == [day - timedelta(days=1)]

    clock[0] = midnight + timedelta(hours=2, minutes=1)
    assert instance.tick() > 0
    assert runs(scheduling, scene.tenant)[("certificate_expiry", "succeeded")] == 2
