"""``make bench``: every benchmark with its same-run baseline.

Uses, and resets, the test database of the local services. Options:
``--quick`` for a short smoke run; ``--rate`` and ``--seconds`` for the lag run.
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime

from bench import lag, snapshots, throughput
from bench.common import bench_settings, percentile, reset_database


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--commands", type=int, default=3200)
    parser.add_argument("--audit-events", type=int, default=10_000)
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    commands = 320 if args.quick else args.commands

    settings = bench_settings()
    reset_database(settings)
    print(f"# AssureHub benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}"
    )
    print()
    print(f"## Command throughput ({commands} single-event commands per row)")
    print("| writers | event store commands/s | raw psycopg INSERT/s | ratio |")
    print("|---|---|---|---|")
    for writers, store, raw in throughput.run(settings, commands):
        print(f"| {writers} | {store:,.0f} | {raw:,.0f} | {store / raw:.2f} |")
    print()
    repeats = 5 if args.quick else 20
    print(
        f"## Aggregate load time (an audit with {args.audit_events:,} events,"
        f" {repeats} loads per row, ms)"
    )
    print("| loading | events replayed | median | max |")
    print("|---|---|---|---|")
    for how, replayed, median, slowest in snapshots.run(
        settings, args.audit_events, repeats
    ):
        print(f"| {how} | {replayed:,} | {median:.1f} | {slowest:.1f} |")
    print()
    print(f"## End-to-end lag at {args.rate:g}/s for {seconds:g} s (ms)")
    print("| path | n | p50 | p95 | p99 | max |")
    print("|---|---|---|---|---|---|")
    for name, values in (
        (
            "command accepted → visible in query API",
            lag.command_lag(settings, args.rate, seconds),
        ),
        (
            "raw Kafka produce → consume (acks=all)",
            lag.kafka_round_trip(settings, args.rate, seconds),
        ),
    ):
        if not values:
            print(f"| {name} | 0 | - | - | - | - |")
            continue
        print(
            f"| {name} | {len(values)} | {percentile(values, 50):.1f} "
            f"| {percentile(values, 95):.1f} | {percentile(values, 99):.1f} "
            f"| {max(values):.1f} |"
        )


if __name__ == "__main__":
    main()
