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
from domain.certificate_values import years_after
from domain.organization import Organization
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
    # nothing left for the day (other tests' tenants share this database,
    # so the runs are counted for this tenant only)
    before = runs(scheduling, scene.tenant)
    first.tick()
    second.tick()
    assert (
        runs(scheduling, scene.tenant)
        == before
        == {
            ("corrective_actions", "succeeded"): 1,
            ("certificate_expiry_warnings", "succeeded"): 1,
            ("surveillance_due", "succeeded"): 1,
            ("certificate_expiry", "succeeded"): 1,
        }
    )
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

    instance.tick()  # yesterday's runs, missed, caught up
    caught = runs(scheduling, scene.tenant)
    assert caught
    assert sum(caught.values()) == len(caught)  # each job once
    assert {status for _, status in caught} == {"succeeded"}
    instance.tick()
    assert runs(scheduling, scene.tenant) == caught
    with scheduling.database.connection() as conn:
        periods = conn.execute(
            "SELECT DISTINCT period FROM schedule_runs WHERE tenant_id = %s",
            (scene.tenant,),
        ).fetchall()
    assert [p[0] for p in periods] == [day - timedelta(days=1)]

    clock[0] = midnight + timedelta(hours=2, minutes=1)
    instance.tick()
    assert runs(scheduling, scene.tenant)[("certificate_expiry", "succeeded")] == 2


def decided(
    scene: Scene, organization: Organization, standard: str, decision: date
) -> Certificate:
    """A three-year certificate of ``standard`` decided and in force from
    ``decision``."""
    return Certificate.issue(
        scene.meta,
        number=f"NV-2026-{uuid.uuid4().int % 10**6:06d}",
        organization_id=organization.id,
        site_ids=(scene.site,),
        site_scopes=("Valves",),
        standard_name=standard,
        standard_edition="2015",
        audit_id=scene.audit.id,
        decision_date=decision,
        issue_date=decision,
        effective_date=decision,
        expiry_date=years_after(decision, 3),
    )


def test_a_surveillance_nobody_planned_is_reported_once_per_cycle(scheduling):
    day = a_day()
    scene = Scene()
    year_ago = years_after(day, -1)
    # first surveillances due in 30 days; in 90 days (not yet reported)
    due = decided(scene, scene.org_a, "ISO 9001", year_ago + timedelta(days=30))
    planned = decided(scene, scene.org_b, "ISO 14001", year_ago + timedelta(days=30))
    later = decided(scene, scene.org_a, "ISO 45001", year_ago + timedelta(days=90))
    surveillance = scene.plan(
        scene.org_b, "ISO 14001", "surveillance", day + timedelta(days=20)
    )
    recorded = scheduling.event_store.append(
        scene.org_a,
        scene.org_b,
        *scene.accounts.values(),
        scene.audit,
        surveillance,
        due,
        planned,
        later,
    )
    caught_up(scheduling, recorded)

    clock = [datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=3)]
    outbox_store = scheduling.outbox()
    instances = [scheduler(scheduling, outbox_store, lambda: clock[0]) for _ in "ab"]
    threads = [threading.Thread(target=s.tick) for s in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    clock[0] += timedelta(days=1)  # the next day's run: the same cycle
    assert instances[0].tick() > 0

    assert runs(scheduling, scene.tenant)[("surveillance_due", "succeeded")] == 2
    rows = [r for r in outbox(scheduling, scene.tenant) if r[0] == "surveillance_due"]
    assert {
        label: c["surveillance_due"] for label, c in by_person(scene, rows).items()
    } == {"manager": 1}
    subject, body = rows[0][3], rows[0][4]
    assert due.number in subject
    assert str(years_after(year_ago + timedelta(days=30), 1)) in subject
    assert due.number in body
