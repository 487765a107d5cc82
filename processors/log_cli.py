"""``assurehub export-log``, ``assurehub verify-log`` and ``assurehub
log-alerts``.

``verify-log FILE --keys KEYS`` is the offline verifier
(:mod:`infra.eventstore.log_verifier`): no database, network or settings.
``verify-log --live`` checks every tenant's chain in the store in place, from
its first event, with the published keys (events after a tenant's newest
checkpoint are accepted: they are signed at the next one).

Exit status: 0 ok, 1 a bad position was found (printed with what is wrong).

``log-alerts list`` shows the watcher's open alerts (``--all``: resolved ones
too); ``log-alerts resolve ID --note TEXT`` resolves one, recording the
operator, the time and the note on the alert and an
``event_log.alert_resolved`` security event in the tenant's log (after the
alert's own ``event_log.mismatch_detected``, recorded first if the watcher
had not yet). Once no
alert is open, ``/health/ready`` no longer reports the log as mismatched.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from commands.log_alerts import LogAlertService
from infra.eventlog.export import export_lines, json_lines, newest_checkpoint
from infra.eventlog.watch import record_alert, verify_tenant
from infra.eventstore import log_verifier
from infra.postgres import event_log
from infra.postgres.pool import Database


def add_log_parsers(sub: Any) -> None:
    """The ``export-log`` and ``verify-log`` commands."""
    e = sub.add_parser("export-log", help="a tenant's hash-chained event log (JSONL)")
    e.add_argument("--tenant", required=True)
    e.add_argument("--from-position", type=int, default=1)
    e.add_argument(
        "--to-position", type=int, help="default: the newest signed checkpoint"
    )
    e.add_argument("--output", type=Path, help="default: standard output")
    v = sub.add_parser("verify-log", help="verify an export offline, or the store")
    v.add_argument("file", nargs="?", help="the export (JSON Lines; '-': stdin)")
    v.add_argument("--keys", help="the published keys (JSON)")
    v.add_argument("--live", action="store_true", help="check the store in place")
    a = sub.add_parser("log-alerts", help="the log watcher's alerts: list, resolve")
    verbs = a.add_subparsers(dest="verb", required=True)
    ls = verbs.add_parser("list", help="open alerts (--all: resolved ones too)")
    ls.add_argument("--all", action="store_true", help="resolved alerts too")
    ls.add_argument("--json", action="store_true", help="one JSON object a line")
    rs = verbs.add_parser("resolve", help="resolve an alert, with a note")
    rs.add_argument("id", type=int, help="the alert's number (log-alerts list)")
    rs.add_argument("--note", required=True, help="what was found and done")
    rs.add_argument("--by", default=None, help="the operator (default: login name)")


def verify_offline(args: argparse.Namespace) -> int | None:
    """``verify-log FILE --keys KEYS``; ``None`` when ``--live`` was asked."""
    if args.live:
        return None
    if not args.file or not args.keys:
        print("verify-log: FILE and --keys KEYS, or --live", file=sys.stderr)
        return 2
    return log_verifier.main([args.file, "--keys", args.keys])


def verify_live(database: Database) -> int:
    """Verify every tenant's chain in the store; 1 if any is bad."""
    with database.connection() as conn:
        tenants = event_log.tenants(conn)
        orphans = event_log.unchained(conn, 0)
    status = 0
    for tenant in tenants:
        report = verify_tenant(database, tenant)
        print(report.text() if not report.ok else f"{report.text()} (live)")
        status = status or (0 if report.ok else 1)
    for position in orphans:
        print(f"bad at position {position}: event inserted: no chain link")
        status = 1
    return status


def export_log(database: Database, args: argparse.Namespace) -> int:
    """Write the tenant's export to ``--output`` or standard output."""
    to_position = args.to_position
    if to_position is None:
        to_position = newest_checkpoint(database, args.tenant)
    lines = json_lines(
        export_lines(database, args.tenant, args.from_position, to_position)
    )
    if args.output is None:
        for line in lines:
            sys.stdout.buffer.write(line)
        return 0
    with args.output.open("wb") as out:
        out.writelines(lines)
    return 0


def log_alerts(
    database: Database, service: LogAlertService, args: argparse.Namespace
) -> int:
    """``log-alerts list`` and ``log-alerts resolve``."""
    if args.verb == "list":
        with database.connection() as conn:
            rows = event_log.alerts(conn, args.all)
        for row in rows:
            print(json.dumps(_alert_json(row)) if args.json else _alert_text(row))
        if not rows and not args.json:
            print("no open alerts" if not args.all else "no alerts")
        return 0
    note = args.note.strip()
    if not note:
        print("log-alerts resolve: --note must say what was done", file=sys.stderr)
        return 2
    operator = f"operator:{args.by or getpass.getuser()}"
    with database.connection() as conn:
        open_ = [r for r in event_log.alerts(conn, False) if r.id == args.id]
    if not open_:
        print(f"log-alerts resolve: no open alert {args.id}", file=sys.stderr)
        return 1
    alert = open_[0]
    if alert.tenant_id:
        if alert.event_recorded_at is None:
            record_alert(database, service, alert)
        service.resolve(alert.tenant_id, alert.id, operator)
    with database.connection() as conn:
        event_log.resolve_alert(conn, alert.id, operator, note)
    print(f"resolved alert {alert.id} by {operator}")
    return 0


def _alert_json(row: event_log.AlertRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "tenant_id": row.tenant_id,
        "position": row.position,
        "problem": row.problem,
        "detail": row.detail,
        "segment": [row.segment_from, row.segment_to],
        "detected_at": row.detected_at.isoformat(),
        "security_event": row.event_recorded_at is not None,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "resolved_by": row.resolved_by,
        "resolution": row.resolution,
    }


def _alert_text(row: event_log.AlertRow) -> str:
    where = f"tenant {row.tenant_id}" if row.tenant_id else "no tenant"
    text = (
        f"{row.id}\t{row.detected_at:%Y-%m-%dT%H:%M:%SZ}\t{where}\t"
        f"position {row.position}: {row.problem}: {row.detail}"
    )
    if row.resolved_at is not None:
        text += f"\tresolved {row.resolved_at:%Y-%m-%dT%H:%M:%SZ} by {row.resolved_by}"
    return text
