"""Aggregate load time: an audit with a long history, with and without snapshots.

One audit gets ``events`` events (assessments, findings and their
corrective-action steps, team changes) appended in batches, as commands
would; snapshotting is on while they are written. Then the same audit is
loaded repeatedly by two event stores over the same database: one that
starts from the newest snapshot, and one with snapshotting off, which
replays every event (the baseline).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID, uuid4

from domain.audit import Audit
from domain.audit_values import Grade
from domain.events import EventMeta
from infra.eventstore.snapshots import SNAPSHOTTING_INTERVALS
from infra.eventstore.store import LibraryEventStore, postgres_env
from infra.settings import Settings

META = EventMeta("bench", "bench", "bench", "bench")
DAY0 = date(2026, 1, 5)
BATCH = 500


def long_audit(store: LibraryEventStore, events: int) -> UUID:
    """An audit in progress with ``events`` events, appended in batches."""
    audit = Audit.plan(
        META,
        organization_id=uuid4(),
        site_ids=[uuid4()],
        standard_template_id=uuid4(),
        standard_version=1,
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_type="surveillance",
        planned_start=DAY0,
        planned_end=DAY0 + timedelta(days=3),
        scope_statement="Design and manufacture of pumps",
    )
    audit.assign_team(META, "lead", ("auditor-1",), (), ())
    audit.start(META, DAY0)
    step = 0
    while audit.version < events:
        _next_command(audit, step)()
        step += 1
        if len(audit.pending_events) >= BATCH or audit.version == events:
            store.append(audit)
    return audit.id


def _next_command(audit: Audit, step: int) -> Callable[[], object]:
    """A plausible command: mostly assessments, some findings worked on."""
    clause = f"{4 + step % 7}.{step % 13 + 1}"
    day = DAY0 + timedelta(days=step % 3)
    open_findings = [f.id for f in audit.findings.values() if f.response is None]
    if step % 10 == 0:
        return lambda: audit.raise_finding(
            META, clause, Grade.MINOR_NONCONFORMITY, "Gap found", "Record 12", day
        )
    if step % 10 == 5 and open_findings:
        return lambda: audit.submit_response(
            META, open_findings[0], "Cause", "Fix", "Action", day + timedelta(30)
        )
    if step % 50 == 7:
        return lambda: audit.assign_team(META, "lead", (f"auditor-{step}",), (), ())
    result = "conforming" if step % 4 else "nonconforming"
    return lambda: audit.assess_requirement(META, clause, result, f"Notes {step}")


def _load_ms(store: LibraryEventStore, audit_id: UUID, repeats: int) -> list[float]:
    store.load(Audit, audit_id)  # warm up: connections, caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        audit = store.load(Audit, audit_id)
        times.append((time.perf_counter() - started) * 1000)
        assert audit is not None
    return times


def run(
    settings: Settings, events: int, repeats: int
) -> list[tuple[str, int, float, float]]:
    """``(how, events replayed, median ms, max ms)`` with and without snapshots."""
    with_snapshots = LibraryEventStore(postgres_env(settings))
    without = LibraryEventStore(postgres_env(settings, snapshots=False))
    try:
        audit_id = long_audit(with_snapshots, events)
        loaded = with_snapshots.load(Audit, audit_id)
        replayed = without.load(Audit, audit_id)
        assert loaded is not None
        assert loaded == replayed, "a snapshot restored a different audit"
        newest_snapshot = (
            loaded.version - loaded.version % SNAPSHOTTING_INTERVALS[Audit]
        )
        rows = []
        for how, store, replays in (
            ("from the newest snapshot", with_snapshots, events - newest_snapshot),
            ("replaying every event", without, events),
        ):
            times = _load_ms(store, audit_id, repeats)
            rows.append((how, replays, statistics.median(times), max(times)))
        return rows
    finally:
        with_snapshots.close()
        without.close()
