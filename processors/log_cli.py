"""``assurehub export-log`` and ``assurehub verify-log``.

``verify-log FILE --keys KEYS`` is the offline verifier
(:mod:`infra.eventstore.log_verifier`): no database, network or settings.
``verify-log --live`` checks every tenant's chain in the store in place, from
its first event, with the published keys (events after a tenant's newest
checkpoint are accepted: they are signed at the next one).

Exit status: 0 ok, 1 a bad position was found (printed with what is wrong).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from infra.eventlog.export import export_lines, json_lines, newest_checkpoint
from infra.eventlog.watch import verify_tenant
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
