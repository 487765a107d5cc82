"""As-of answers: an audit with a long history asked ``as_of_version``.

One audit gets ``events`` events: a hundred findings each taken through
response, acceptance, implementation, verification and closing, and the rest
clause assessments re-recorded over a hundred clauses (an audit programme
that reassesses its checklist), so that its detail holds about two hundred
rows, as a large real audit does. Its read model is rebuilt, and the API
(in process, over ASGI, with development headers) answers three kinds of
request in the same run:

- the live detail, ``GET /audits/{id}`` (read-model rows; the baseline a
  caller knows);
- ``as_of_version`` of random versions, folding from the newest fold
  snapshot at or below the version (after one warm-up request for the newest
  version, which folds every event and stores the fold snapshots on its way:
  one every :data:`~infra.projection.as_of.FOLD_INTERVAL` versions);
- ``as_of`` the recorded times of random versions, the same way once the
  version in force then is found;
- the same with fold snapshots off, every request replaying the audit's
  events from the first (the baseline the snapshots are for).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

import httpx

from bench.common import percentile
from bench.snapshots import META, long_audit
from domain.audit import Audit
from domain.audit_values import Grade
from infra.bootstrap import bootstrap
from infra.eventstore.store import LibraryEventStore
from infra.projection.as_of import AsOfFolds
from infra.settings import Settings
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.audits import AuditProjection
from read_api.app import create_app

FINDINGS = 100
BATCH = 500
DAY0 = date(2026, 1, 5)
HEADERS = {
    "X-Dev-Tenant": "bench",
    "X-Dev-Actor": "bench",
    "X-Dev-Roles": "tenant_admin",
}
Row = tuple[str, int, float, float, float]
"""(request, n, p50 ms, p99 ms, max ms)"""


def run(settings: Settings, events: int, requests: int, replays: int) -> list[Row]:
    """Time the live detail, as-of with fold snapshots, and full replays."""
    container = bootstrap(settings)
    try:
        audit_id = reassessed_audit(container.event_store, events)
        container.rebuilder(ask_kafka=False).rebuild(AuditProjection())
        app = create_app(container)
        url = f"/audits/{audit_id}"
        rng = random.Random(7)

        def versions(n: int) -> list[dict[str, str]]:
            return [{"as_of_version": str(rng.randint(1, events))} for _ in range(n)]

        snapshotting = container.as_of
        replaying = AsOfFolds(
            container.event_store,
            StoredEnvelopes(container.event_store, settings.event_source),
            snapshots=False,
        )
        rows: list[Row] = []
        live = _timed(app, url, [{}] * requests)
        rows.append(("live detail", *live))
        _timed(app, url, [{"as_of_version": str(events)}])  # warm up: fold snapshots
        asked = _timed(app, url, versions(requests))
        rows.append(("as_of_version, from fold snapshots", *asked))
        times = [e.time.isoformat() for e in snapshotting.recorded(audit_id)]
        moments = [{"as_of": rng.choice(times)} for _ in range(requests)]
        rows.append(("as_of=<time>, from fold snapshots", *_timed(app, url, moments)))
        container.as_of = replaying
        try:
            full = _timed(app, url, versions(replays))
        finally:
            container.as_of = snapshotting
        rows.append(("as_of_version, replaying every event", *full))
        return rows
    finally:
        container.close()


def reassessed_audit(store: LibraryEventStore, events: int) -> UUID:
    """An audit of ``events`` events (see the module docstring)."""
    audit_id = long_audit(store, 4)  # planned, team assigned, started, assessed
    audit = store.load(Audit, audit_id)
    assert audit is not None
    assert audit.version == 4
    step = 0
    while audit.version < events:
        clause = f"{4 + step % 10}.{step % 10 + 1}"
        if step % 90 == 0 and len(audit.findings) < FINDINGS:
            audit.raise_finding(
                META, clause, Grade.MINOR_NONCONFORMITY, "Gap", "Record", DAY0
            )
        else:
            _work_on_findings(audit, step)
        step += 1
        if len(audit.pending_events) >= BATCH:
            store.append(audit)
    store.append(audit)
    return audit_id


def _work_on_findings(audit: Audit, step: int) -> None:
    """One step on the oldest finding still open, else an assessment."""
    clause = f"{4 + step % 10}.{step % 10 + 1}"
    for finding in audit.findings.values():
        if finding.status.value in ("closed", "dismissed") or step % 3:
            continue
        move = _NEXT.get(finding.status.value)
        if move is not None:
            move(audit, finding.id)
            return
    result = "conforming" if step % 4 else "nonconforming"
    audit.assess_requirement(META, clause, result, f"Notes {step}")


_NEXT: dict[str, Callable[[Audit, UUID], object]] = {
    "awaiting_response": lambda a, f: a.submit_response(
        META, f, "Cause", "Fix", "Action", DAY0 + timedelta(30)
    ),
    "response_submitted": lambda a, f: a.accept_response(META, f),
    "response_accepted": lambda a, f: a.implement_corrective_action(META, f, DAY0),
    "action_implemented": lambda a, f: a.verify_effectiveness(META, f, "lead", DAY0),
    "verified": lambda a, f: a.close_finding(META, f),
}


def _timed(
    app: Callable[..., object], url: str, params: list[dict[str, str]]
) -> tuple[int, float, float, float]:
    async def measure() -> list[float]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
            await c.get(url, headers=HEADERS)  # connections, caches
            times = []
            for query in params:
                started = time.perf_counter()
                r = await c.get(url, headers=HEADERS, params=query)
                times.append((time.perf_counter() - started) * 1000)
                assert r.status_code == 200, r.text
            return times

    times = asyncio.run(measure())
    return len(times), percentile(times, 50), percentile(times, 99), max(times)
