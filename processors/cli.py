"""The ``assurehub`` command."""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn

from commands.access_records import RecordRead
from domain.errors import InvalidValueError, RuleViolationError
from domain.principal import Principal
from infra.bootstrap import Container, bootstrap
from infra.errors import DependencyUnavailableError
from infra.heartbeat import STALE_AFTER_SECONDS, Heartbeat
from infra.history.export import write_trail
from infra.history.query import HistoryQuery
from infra.history.reader import Viewer
from infra.logs import configure_logging
from infra.migrations import migrate
from infra.postgres import projection_halts
from infra.postgres.pool import Database
from infra.postgres.projection_schemas import ShapeMismatchError, ensure_schemas
from infra.projection.rebuild import RebuildError
from infra.projection.registry import UnknownProjectionError, all_projections, by_name
from infra.projection.replay import ReplayRefusedError, replay
from infra.projection.status import ProjectionStatus
from infra.settings import Settings, load_settings
from infra.streaming import asyncapi, kafka
from infra.streaming.asyncapi import ASYNCAPI_FILE
from infra.streaming.event_schemas import write_all
from processors.document_cli import add_documents_parser, verify_file
from processors.log_cli import (
    add_log_parsers,
    export_log,
    log_alerts,
    verify_live,
    verify_offline,
)
from processors.person_keys_cli import (
    add_person_keys_parser,
    person_keys_command,
    rewrap_on_migrate,
)
from processors.schedule_cli import add_schedules_parser, schedules_status
from processors.setting_refusals import refusing_bad_settings
from processors.supervisor import supervise
from processors.workers import run_processors, run_projectors, run_relay, run_webhooks

log = logging.getLogger("assurehub")

SERVICES_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "services.sh"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assurehub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("api", help="serve the HTTP API (uvicorn)")
    sub.add_parser("relay", help="publish stored events to Kafka")
    sub.add_parser("projectors", help="build the read models from Kafka")
    sub.add_parser(
        "processors",
        help="documents, notifications, outgoing mail, and the scheduler "
        "(expiries, reminders, warnings, housekeeping)",
    )
    sub.add_parser(
        "webhooks", help="only the webhook dispatcher (also run by processors)"
    )
    sub.add_parser("dev", help="API, relay and projectors together; Ctrl-C stops all")
    m = sub.add_parser("migrate", help="create or upgrade tables and the Kafka topic")
    m.add_argument("--skip-kafka", action="store_true", help="do not create the topic")
    e = sub.add_parser(
        "event-schemas", help="write the events' JSON Schemas and AsyncAPI document"
    )
    e.add_argument("--write", metavar="DIR", default="docs/events")
    h = sub.add_parser("health", help="exit 0 if a worker is looping (healthchecks)")
    h.add_argument("worker", choices=list(HEALTH_PREFIXES))
    s = sub.add_parser("services", help="local Postgres, Kafka and Redis under var/")
    s.add_argument("action", choices=["up", "down", "status", "env"])
    a = sub.add_parser(
        "invite-platform-admin",
        help="invite a platform administrator by e-mail (the first way in)",
    )
    a.add_argument("--email", required=True)
    a.add_argument("--name", required=True)
    x = sub.add_parser(
        "export-history",
        help="write a tenant's events (the audit trail) as JSON Lines",
    )
    x.add_argument("--tenant", required=True)
    x.add_argument("--from", dest="recorded_from", metavar="TIME", type=_time)
    x.add_argument("--to", dest="recorded_to", metavar="TIME", type=_time)
    x.add_argument("file", type=Path, help="where to write ('-' for stdout)")
    _projection_parsers(sub)
    add_documents_parser(sub)
    add_schedules_parser(sub)
    add_log_parsers(sub)
    add_person_keys_parser(sub)
    return parser


def _time(value: str) -> datetime:
    """An RFC 3339 time with an offset (argparse type)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an RFC 3339 time with an offset"
        )
    return parsed


def _export_history(settings: Settings, args: argparse.Namespace) -> int:
    """Write the tenant's trail to ``args.file`` (the same entries as
    ``GET /audit-trail?format=jsonl``, personal fields included); the export
    is itself recorded in the trail."""
    query = HistoryQuery(recorded_from=args.recorded_from, recorded_to=args.recorded_to)
    operator = Principal.for_system(args.tenant, "system:export-history")
    container = bootstrap(settings)
    started = time.monotonic()
    try:
        container.access_records.record_read(
            operator,
            f"cli-{uuid.uuid4()}",
            RecordRead("CLI export-history", "", _export_query(args), None, None),
        )
        viewer = Viewer(operator.actor_id, sees_personal=True)
        if str(args.file) == "-":
            count = write_trail(
                container.history, args.tenant, query, viewer, sys.stdout.buffer
            )
        else:
            with args.file.open("wb") as out:
                count = write_trail(container.history, args.tenant, query, viewer, out)
    finally:
        container.close()
    seconds = time.monotonic() - started
    print(
        f"{count} events of {args.tenant} written in {seconds:.1f} s", file=sys.stderr
    )
    return 0


def _export_query(args: argparse.Namespace) -> str:
    parts = [f"--tenant {args.tenant}"]
    if args.recorded_from is not None:
        parts.append(f"--from {args.recorded_from.isoformat()}")
    if args.recorded_to is not None:
        parts.append(f"--to {args.recorded_to.isoformat()}")
    return " ".join(parts)


def _invite_platform_admin(email: str, name: str) -> int:
    """Invite a platform administrator; the e-mail goes through the outbox
    (``var/mail/`` in development, SMTP when configured)."""
    container = bootstrap(load_settings())
    try:
        accepted = container.services.tenants.invite_platform_admin(
            email, name, f"cli-{uuid.uuid4()}"
        )
    except (RuleViolationError, InvalidValueError) as e:
        print(f"refused: {e}", file=sys.stderr)
        return 2
    finally:
        container.close()
    print(f"invited platform administrator {accepted.id}; the e-mail carries the link")
    return 0


def _projection_parsers(sub: Any) -> None:
    p = sub.add_parser("projections", help="status, rebuild and replay of read models")
    verbs = p.add_subparsers(dest="verb", required=True)
    st = verbs.add_parser("status", help="progress, lag, dead letters, shape")
    st.add_argument("--json", action="store_true", help="one JSON document")
    rb = verbs.add_parser("rebuild", help="rebuild from the event store, online")
    which = rb.add_mutually_exclusive_group(required=True)
    which.add_argument("name", nargs="?", help="projection to rebuild")
    which.add_argument("--all", action="store_true", help="every projection")
    rp = verbs.add_parser("replay", help="apply parked (dead-lettered) events")
    rp.add_argument("name", help="projection whose parked events to replay")
    one = rp.add_mutually_exclusive_group()
    one.add_argument("--all", action="store_true", help="every parked event (default)")
    one.add_argument("--event", metavar="ID", help="only this event")
    rs = verbs.add_parser(
        "resume", help="clear a halt once its cause is fixed; the record comes again"
    )
    rs.add_argument("name", help="projection to resume")


def _migrate(skip_kafka: bool) -> int:
    settings = load_settings()
    container = bootstrap(settings)
    try:
        applied = migrate(settings, container.database)
        print(f"database: {len(applied)} migration(s) applied")
        rewrap_on_migrate(container.database, container.key_wrapping)
        if not skip_kafka:
            try:
                created = kafka.ensure_topic(settings)
            except DependencyUnavailableError as e:
                print(f"kafka: topic not created: {e.detail}", file=sys.stderr)
                return 1
            state = "created" if created else "present"
            print(f"kafka: topic {settings.kafka_topic} {state}")
        return prepare_projections(container, ask_kafka=not skip_kafka)
    finally:
        container.close()


class ProgressBar:
    """``label: done/total events (pct) rate ev/s ETA`` on one stderr line."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self._started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        share = 100.0 * done / total if total else 100.0
        sys.stderr.write(
            f"\r{self._label}: {done}/{total} events ({share:5.1f}%)"
            f" {rate:,.0f} ev/s ETA {eta:,.0f} s   "
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def _rebuild(container: Container, names: list[str], ask_kafka: bool = True) -> int:
    """Rebuild ``names`` from one pass over the event store, then swap each."""
    rebuilder = container.rebuilder(ask_kafka=ask_kafka)
    bar = ProgressBar(f"rebuild {', '.join(names)}")
    try:
        results = rebuilder.rebuild_all([by_name(name) for name in names], bar)
    except RebuildError as e:
        bar.close()
        print(f"not rebuilt: {e}", file=sys.stderr)
        return 1
    bar.close()
    for result in results:
        print(
            f"{result.projection}: rebuilt from {result.events} events up to"
            f" position {result.built_up_to} in {result.seconds:.1f} s"
            f" ({result.parked} parked)"
        )
    return 0


def prepare_projections(container: Container, ask_kafka: bool = True) -> int:
    """Create missing projection schemas; build those the store has events
    for; say which need a rebuild because their shape changed."""
    empty = container.event_store.head() == 0
    states = ensure_schemas(container.database, all_projections(), empty)
    for state in states:
        if state.state == "changed":
            print(
                f"projection {state.projection}: its tables have another shape;"
                f" run `assurehub projections rebuild {state.projection}`"
            )
        elif state.state != "missing":
            print(f"projection {state.projection}: {state.state}")
    missing = [s.projection for s in states if s.state == "missing"]
    return _rebuild(container, missing, ask_kafka) if missing else 0


def format_status(statuses: list[ProjectionStatus]) -> str:
    """The ``projections status`` table: one line per projection, its
    partitions below it, and why it is halted when it is."""
    lines = [
        f"{'projection':<24} {'head':>9} {'reached':>9} {'lag':>7} {'lag s':>8}"
        f" {'parked':>6} {'halted':>6}  state"
    ]
    for s in statuses:
        lines.append(
            f"{s.projection:<24} {s.head:>9} {s.reached:>9} {s.lag_events:>7}"
            f" {s.lag_seconds:>8.1f} {s.parked:>6} {s.halted:>6}  {s.state.upper()}"
        )
        parts = " ".join(f"{p}={pos}" for p, pos in sorted(s.positions.items()))
        lines.append(f"{'':<24} partitions: {parts or 'none tracked'}")
        if s.halt is not None:
            lines.append(f"{'':<24} halted: {s.halt}")
        if s.stalled:
            idle = (
                "never moved"
                if s.idle_seconds is None
                else (f"no progress for {s.idle_seconds:.0f} s")
            )
            lines.append(f"{'':<24} stalled: behind the head, {idle}")
    return "\n".join(lines)


def _replay(container: Container, name: str, event_id: str | None) -> int:
    result = replay(container.database, by_name(name), event_id)
    print(
        f"{name}: {len(result.applied)} applied, {len(result.failed)} failed,"
        f" {len(result.waiting)} still waiting behind a failure"
    )
    for failed, error in result.failed.items():
        print(f"  {failed}: {error}")
    return 1 if result.failed else 0


def _resume(container: Container, name: str) -> int:
    """Clear the halt of ``name``; its runners notice within seconds and the
    record it halted at comes again."""
    with container.database.connection() as conn, conn.transaction():
        cleared = projection_halts.clear(conn, name)
    if cleared:
        print(f"{name}: halt cleared; its runners consume again within seconds")
        return 0
    by_name(name)  # an unknown name is an error, not "not halted"
    print(f"{name}: not halted")
    return 0


def projections_command(settings: Settings, args: argparse.Namespace) -> int:
    """``assurehub projections status|rebuild|replay|resume``."""
    container = bootstrap(settings)
    try:
        if args.verb == "status":
            statuses = container.projection_status()
            if args.json:
                print(json.dumps([s.as_json() for s in statuses], indent=2))
            else:
                print(format_status(statuses))
            return 0
        if args.verb == "rebuild":
            names = [p.name for p in all_projections()] if args.all else [args.name]
            return _rebuild(container, names)
        if args.verb == "resume":
            return _resume(container, args.name)
        return _replay(container, args.name, args.event)
    except (UnknownProjectionError, ReplayRefusedError, ShapeMismatchError) as e:
        print(str(e), file=sys.stderr)
        return 2
    finally:
        container.close()


def _documents(settings: Settings, args: argparse.Namespace) -> int:
    """``assurehub documents verify FILE [--document ID]``."""
    if not args.file.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    container = bootstrap(settings)
    try:
        return verify_file(
            args, container.document_builder, container.issued_documents()
        )
    finally:
        container.close()


HEALTH_PREFIXES = {
    "relay": "relay",
    "projectors": "projector-",
    "processors": "processor-",
}


def _worker_health(settings: Settings, worker: str) -> int:
    """0 when every heartbeat of ``worker`` is fresh, else 1 (and say which)."""
    prefix = HEALTH_PREFIXES[worker]
    beats = sorted(settings.heartbeat_dir.glob(f"{prefix}*.heartbeat"))
    max_age = max(STALE_AFTER_SECONDS, 3 * settings.expiry_check_seconds)
    stale = [
        p.name
        for p in beats
        if not Heartbeat(p.parent, p.name.removesuffix(".heartbeat")).is_fresh(max_age)
    ]
    if not beats or stale:
        print(f"{worker}: not looping ({', '.join(stale) or 'no heartbeat yet'})")
        return 1
    print(f"{worker}: ok")
    return 0


def _schedules(settings: Settings, args: argparse.Namespace) -> int:
    container = bootstrap(settings)
    try:
        return schedules_status(
            container.schedules(),
            container.services.calendar.time_zone,
            settings.schedule_time_of_day,
            args.json,
        )
    finally:
        container.close()


def _log_alerts(settings: Settings, args: argparse.Namespace) -> int:
    """``log-alerts list`` and ``log-alerts resolve``."""
    container = bootstrap(settings)
    try:
        return log_alerts(container.database, container.log_alerts(), args)
    finally:
        container.close()


def _person_keys(settings: Settings, args: argparse.Namespace) -> int:
    """``person-keys status`` and ``person-keys rewrap``."""
    container = bootstrap(settings)
    try:
        return person_keys_command(container.database, container.key_wrapping, args)
    finally:
        container.close()


def _event_log(settings: Settings, args: argparse.Namespace) -> int:
    """``export-log`` and ``verify-log --live``, on a database pool."""
    database = Database.from_settings(settings)
    try:
        if args.command == "export-log":
            return export_log(database, args)
        return verify_live(database)
    finally:
        database.close()


_WORKER_HEALTHCHECK_SECONDS = 30
"""How long an API worker may take to answer uvicorn's health check."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return refusing_bad_settings(args.command, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    if args.command == "services":
        return subprocess.call(["bash", str(SERVICES_SCRIPT), args.action])  # noqa: S603, S607
    if args.command == "event-schemas":
        for path in write_all(Path(args.write)):
            print(path)
        document = Path(args.write) / ASYNCAPI_FILE
        document.write_text(asyncapi.as_yaml())
        print(document)
        return 0
    if args.command == "verify-log":
        offline = verify_offline(args)
        if offline is not None:
            return offline
    settings = load_settings()
    configure_logging(settings)
    if args.command in ("verify-log", "export-log"):
        return _event_log(settings, args)
    if args.command == "log-alerts":
        return _log_alerts(settings, args)
    if args.command == "person-keys":
        return _person_keys(settings, args)
    if args.command == "migrate":
        return _migrate(args.skip_kafka)
    if args.command == "invite-platform-admin":
        return _invite_platform_admin(args.email, args.name)
    if args.command == "health":
        return _worker_health(settings, args.worker)
    if args.command == "projections":
        return projections_command(settings, args)
    if args.command == "documents":
        return _documents(settings, args)
    if args.command == "schedules":
        return _schedules(settings, args)
    if args.command == "export-history":
        return _export_history(settings, args)
    if args.command == "api":
        uvicorn.run(
            "read_api.asgi:app_factory",
            factory=True,
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,
            access_log=False,
            workers=settings.api_workers,
            # A spawned worker imports the whole app before it can answer the
            # supervisor's ping: on a busy host that took longer than
            # uvicorn's 5 s, and the worker was killed and spawned again.
            timeout_worker_healthcheck=_WORKER_HEALTHCHECK_SECONDS,
        )
        return 0
    if args.command == "relay":
        run_relay(settings)
        return 0
    if args.command == "projectors":
        run_projectors(settings)
        return 0
    if args.command == "processors":
        run_processors(settings)
        return 0
    if args.command == "webhooks":
        run_webhooks(settings)
        return 0
    return supervise(settings.metrics_dir)


if __name__ == "__main__":
    sys.exit(main())
