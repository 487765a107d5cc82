"""``assurehub schedules status``: each job's last run and next run, per
tenant."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from infra.postgres.schedules import PostgresSchedules, RunRecord
from processors.scheduler import EVERY_TENANT


def add_schedules_parser(sub: Any) -> None:
    """The ``schedules`` command and its verbs."""
    p = sub.add_parser("schedules", help="the scheduler's runs")
    verbs = p.add_subparsers(dest="verb", required=True)
    st = verbs.add_parser("status", help="last run, next run and outcome per tenant")
    st.add_argument("--json", action="store_true", help="one JSON document")


def next_run(day: date, run_at: time, zone: str) -> datetime:
    """When the run after the one for ``day`` is due (in UTC)."""
    local = datetime.combine(day + timedelta(days=1), run_at, ZoneInfo(zone))
    return local.astimezone(ZoneInfo("UTC"))


def schedules_status(
    schedules: PostgresSchedules,
    zone_of: Any,
    run_at: time,
    as_json: bool,
) -> int:
    """Print each job's latest run per tenant; 1 if the latest failed."""
    records = schedules.latest()
    rows = [_row(r, zone_of, run_at) for r in records]
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        if not rows:
            print("no scheduled run recorded yet")
        for row in rows:
            print(
                f"{row['job']:<28} {row['tenant_id']:<24} last {row['last_day']}"
                f" {row['status']:<9} next {row['next_run']}  {row['outcome'] or ''}"
            )
    return 1 if any(r.status == "failed" for r in records) else 0


def _row(record: RunRecord, zone_of: Any, run_at: time) -> dict[str, Any]:
    zone = "UTC" if record.tenant_id == EVERY_TENANT else zone_of(record.tenant_id)
    return {
        "job": record.job,
        "tenant_id": record.tenant_id,
        "last_day": record.period.isoformat(),
        "status": record.status,
        "attempts": record.attempts,
        "started_at": record.started_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        "outcome": record.outcome,
        "next_run": next_run(record.period, run_at, zone).isoformat(),
    }
