"""The ``assurehub`` command."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

import uvicorn

from infra import kafka
from infra.errors import DependencyUnavailableError
from infra.event_schemas import write_all
from infra.heartbeat import STALE_AFTER_SECONDS, Heartbeat
from infra.logs import configure_logging
from infra.postgres.migrations import migrate
from infra.postgres.pool import Database
from infra.settings import Settings, load_settings
from processors.supervisor import supervise
from processors.workers import run_processors, run_projectors, run_relay

log = logging.getLogger("assurehub")

SERVICES_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "services.sh"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assurehub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("api", help="serve the HTTP API (uvicorn)")
    sub.add_parser("relay", help="publish stored events to Kafka")
    sub.add_parser("projectors", help="build the read models from Kafka")
    sub.add_parser("processors", help="scheduled work: record certificate expiries")
    sub.add_parser("dev", help="API, relay and projectors together; Ctrl-C stops all")
    m = sub.add_parser("migrate", help="create or upgrade tables and the Kafka topic")
    m.add_argument("--skip-kafka", action="store_true", help="do not create the topic")
    e = sub.add_parser("event-schemas", help="write the events' JSON Schemas")
    e.add_argument("--write", metavar="DIR", default="docs/events")
    h = sub.add_parser("health", help="exit 0 if a worker is looping (healthchecks)")
    h.add_argument("worker", choices=list(HEALTH_PREFIXES))
    s = sub.add_parser("services", help="local Postgres, Kafka and Redis under var/")
    s.add_argument("action", choices=["up", "down", "status", "env"])
    return parser


def _migrate(skip_kafka: bool) -> int:
    settings = load_settings()
    database = Database.from_settings(settings)
    try:
        applied = migrate(settings, database)
    finally:
        database.close()
    print(f"database: {len(applied)} migration(s) applied")
    if skip_kafka:
        return 0
    try:
        created = kafka.ensure_topic(settings)
    except DependencyUnavailableError as e:
        print(f"kafka: topic not created: {e.detail}", file=sys.stderr)
        return 1
    print(f"kafka: topic {settings.kafka_topic} {'created' if created else 'present'}")
    return 0


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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "services":
        return subprocess.call(["bash", str(SERVICES_SCRIPT), args.action])  # noqa: S603, S607
    if args.command == "event-schemas":
        for path in write_all(Path(args.write)):
            print(path)
        return 0
    settings = load_settings()
    configure_logging(settings)
    if args.command == "migrate":
        return _migrate(args.skip_kafka)
    if args.command == "health":
        return _worker_health(settings, args.worker)
    if args.command == "api":
        uvicorn.run(
            "read_api.asgi:app_factory",
            factory=True,
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,
            access_log=False,
            workers=settings.api_workers,
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
    return supervise()


if __name__ == "__main__":
    sys.exit(main())
