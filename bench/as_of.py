"""As-of answers: an audit with a long history asked ``as_of_version``.

One audit gets ``events`` events (as :mod:`bench.snapshots` writes them),
its read model is rebuilt, and the API (in process, over ASGI, with
development headers) answers three kinds of request in the same run:

- the live detail, ``GET /audits/{id}`` (read-model rows; the baseline a
  caller knows);
- ``as_of_version`` of random versions, folding from the newest fold
  snapshot at or below the version (after one warm-up request for the newest
  version, which folds every event and stores the fold snapshots on its way);
- the same with fold snapshots off, every request replaying the audit's
  events from the first (the baseline the snapshots are for).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import httpx

from bench.common import percentile
from bench.snapshots import long_audit
from infra.bootstrap import bootstrap
from infra.projection.as_of import AsOfFolds
from infra.settings import Settings
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.audits import AuditProjection
from read_api.app import create_app

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
        audit_id = long_audit(container.event_store, events)
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
        container.as_of = replaying
        try:
            full = _timed(app, url, versions(replays))
        finally:
            container.as_of = snapshotting
        rows.append(("as_of_version, replaying every event", *full))
        return rows
    finally:
        container.close()


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
