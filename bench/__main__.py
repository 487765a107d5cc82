"""``make bench``: every benchmark with its same-run baseline.

Uses, and resets, the test database of the local services. Options:
``--quick`` for a short smoke run; ``--rate`` and ``--seconds`` for the lag run;
``--list-audits``, ``--list-findings``, ``--list-requests`` and
``--list-connections`` (the pinned asyncio run; 0 skips it) for the audit
list query; ``--rebuild-events`` for the rebuild of every read model;
``--document-clauses`` and ``--document-findings`` for the large report;
``--webhook-rate`` for the webhook delivery lag (over ``--seconds``) and
``--webhook-fanout-events`` for its saturation run (0 skips it);
``--webhook-backlog`` for the sender's claim beside deliveries it cannot send
yet (``webhook_claims``);
``--append-commands``, ``--append-processes`` and ``--append-threads`` for
the appends at many writers (group commit beside one transaction per
command, the transaction-order prototype and raw INSERT);
``--api-requests`` and ``--api-workers`` (e.g. ``1,2``) for HTTP commands;
``--scaleout-clients`` and ``--scaleout-seconds`` for one versus two
processes of each kind; ``--outage-seconds`` and ``--outage-rate`` for the
catch-up after the projectors' outage;
``--only list,lag`` to run some sections only (``log_verify``: the offline
log verification of ``--log-events`` events alone, without the appends of
``log``).
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime

from bench import api as http_api
from bench import (
    appends,
    as_of,
    catchup,
    concurrent_load,
    documents,
    feed,
    history,
    lag,
    list_query,
    log_proof,
    rebuild,
    scaleout,
    sealing,
    snapshots,
    throughput,
    webhook_claims,
    webhooks,
)
from bench.common import bench_settings, percentile, reset_database
from infra.settings import Settings

SECTIONS = (
    "throughput",
    "appends",
    "sealing",
    "snapshots",
    "as_of",
    "lag",
    "list",
    "rebuild",
    "documents",
    "history",
    "log",
    "log_verify",
    "feed",
    "webhooks",
    "webhook_claims",
    "api",
    "scaleout",
    "catchup",
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--commands", type=int, default=3200)
    parser.add_argument("--audit-events", type=int, default=10_000)
    parser.add_argument("--list-audits", type=int, default=100_000)
    parser.add_argument("--list-findings", type=int, default=1_000_000)
    parser.add_argument("--list-requests", type=int, default=3_000)
    parser.add_argument("--list-connections", type=int, default=50)
    parser.add_argument("--rebuild-events", type=int, default=1_000_000)
    parser.add_argument("--feed-events", type=int, default=1_000_000)
    parser.add_argument("--document-clauses", type=int, default=2000)
    parser.add_argument("--document-findings", type=int, default=200)
    parser.add_argument("--history-events", type=int, default=1_000_000)
    parser.add_argument("--log-events", type=int, default=1_000_000)
    parser.add_argument("--webhook-rate", type=float, default=200.0)
    parser.add_argument("--api-requests", type=int, default=8000)
    parser.add_argument(
        "--api-workers",
        type=lambda v: tuple(int(w) for w in v.split(",")),
        default=(1, 2),
    )
    parser.add_argument("--append-commands", type=int, default=16_000)
    parser.add_argument("--append-processes", type=int, default=2)
    parser.add_argument("--append-threads", type=int, default=8)
    parser.add_argument("--webhook-fanout-events", type=int, default=200)
    parser.add_argument("--webhook-backlog", type=int, default=10_000)
    parser.add_argument("--scaleout-clients", type=int, default=16)
    parser.add_argument("--scaleout-seconds", type=float, default=30.0)
    parser.add_argument("--outage-seconds", type=float, default=60.0)
    parser.add_argument("--outage-rate", type=float, default=300.0)
    parser.add_argument(
        "--only",
        type=lambda v: set(v.split(",")),
        default=set(SECTIONS),
        help=f"comma-separated sections among {', '.join(SECTIONS)}",
    )
    args = parser.parse_args()
    if args.only - set(SECTIONS):
        parser.error(f"--only: sections are {', '.join(SECTIONS)}")
    seconds = 5.0 if args.quick else args.seconds
    commands = 320 if args.quick else args.commands

    settings = bench_settings()
    reset_database(settings)
    print(f"# AssureHub benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}"
    )
    if "throughput" in args.only:
        _throughput(settings, commands)
    if "appends" in args.only:
        _appends(
            settings,
            800 if args.quick else args.append_commands,
            args.append_processes,
            args.append_threads,
        )
    if "sealing" in args.only:
        _sealing(settings, commands)
    if "snapshots" in args.only:
        _snapshots(settings, args.audit_events, 5 if args.quick else 20)
    if "as_of" in args.only:
        _as_of(settings, args.audit_events, 50 if args.quick else 200)
    if "lag" in args.only:
        _lag(settings, args.rate, seconds)
    if "list" in args.only:
        if args.quick:
            audits, findings, requests = 10_000, 100_000, 400
        else:
            audits, findings = args.list_audits, args.list_findings
            requests = args.list_requests
        _list_query(
            list_query.run(
                settings,
                audits,
                findings,
                requests,
                connections=args.list_connections,
                at_connections=concurrent_load.measure_connections,
            )
        )
    if "rebuild" in args.only:
        if "list" in args.only:
            reset_database(settings)
        events = 20_000 if args.quick else args.rebuild_events
        _rebuild(rebuild.run(settings, events))
    if "log" in args.only:
        _log_proof(settings, commands, 20_000 if args.quick else args.log_events)
    elif "log_verify" in args.only:
        _log_verify(20_000 if args.quick else args.log_events)
    if "documents" in args.only:
        if args.quick:
            _documents(documents.run(settings, 200, 20, 50, 2))
        else:
            _documents(
                documents.run(settings, args.document_clauses, args.document_findings)
            )
    if "history" in args.only:
        if args.only & {"list", "rebuild"}:
            reset_database(settings)
        events = 20_000 if args.quick else args.history_events
        _history(history.run(settings, events, 10 if args.quick else 50))
    if "feed" in args.only:
        if args.only != {"feed"}:
            reset_database(settings)
        _feed(feed.run(settings, 20_000 if args.quick else args.feed_events))
    if "webhooks" in args.only:
        fanout = 20 if args.quick else args.webhook_fanout_events
        _webhooks(settings, args.webhook_rate, seconds, fanout)
    if "webhook_claims" in args.only:
        if args.only != {"webhook_claims"}:
            reset_database(settings)  # nothing else due: one delivery is claimed
        backlog = 1000 if args.quick else args.webhook_backlog
        _webhook_claims(webhook_claims.run(settings, backlog, 100, 200))
    if "api" in args.only:
        _api(settings, 800 if args.quick else args.api_requests, args.api_workers)

    if "scaleout" in args.only:
        _scaleout(
            scaleout.run(
                settings,
                args.scaleout_clients,
                10.0 if args.quick else args.scaleout_seconds,
            )
        )
    if "catchup" in args.only:
        _catchup(
            catchup.run(
                settings,
                args.outage_rate,
                20.0 if args.quick else args.outage_seconds,
            )
        )


def _webhook_claims(rows: list[webhook_claims.Row]) -> None:
    print()
    print(
        f"## The webhook sender's claim round beside deliveries it cannot send"
        f" ({len(rows[0].rounds)} rounds each, ms)"
    )
    print("| also queued | p50 | p99 |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r.situation} | {r.p(50):.2f} | {r.p(99):.2f} |")


def _api(settings: Settings, requests: int, workers: tuple[int, ...]) -> None:
    print()
    print(f"## HTTP commands at 16 connections ({requests} requests per row)")
    rows, notes = http_api.run(settings, requests, workers=workers)
    print("| target | API workers | n | per second | p50 ms | p99 ms | generator CPU |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if not r.workers:  # the store alone: no HTTP, no latencies
            print(f"| {r.target} | - | {r.n} | {r.per_second:,.0f} | - | - | - |")
            continue
        print(
            f"| {r.target} | {r.workers} | {r.n} | {r.per_second:,.0f}"
            f" | {r.p50:.1f} | {r.p99:.1f} | {r.generator_cpu:.0%} |"
        )
    for note in notes:
        print(f"- {note}")


def _scaleout(rows: list[scaleout.Row]) -> None:
    print()
    print(
        f"## One versus two processes of each kind (API, relay, projectors):"
        f" {rows[0].clients} clients, command then read with min_position,"
        f" {rows[0].seconds:.0f} s each"
    )
    print(
        "| processes of each kind | commands/s | lag p50 | p95 | p99 | max | failed |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.processes} | {r.per_second:,.0f} | {r.p(50):.1f} | {r.p(95):.1f}"
            f" | {r.p(99):.1f} | {max(r.lags, default=0):.1f} | {r.failures} |"
        )


def _catchup(drains: list[catchup.Drain]) -> None:
    print()
    print(
        f"## Catch-up after the projectors were down for"
        f" {drains[0].outage_seconds:.0f} s under load"
    )
    print(
        "| projector processes | commands accepted | backlog events"
        " | drain s (from first move) | events/s | s from process start"
        " | rebuild of all read models, events/s (same store) |"
    )
    print("|---|---|---|---|---|---|---|")
    for d in drains:
        print(
            f"| {d.projectors} | {d.accepted:,} | {d.backlog:,}"
            f" | {d.from_first_move:.1f} | {d.per_second:,.0f} | {d.from_start:.1f}"
            f" | {d.rebuild_per_second:,.0f} ({d.rebuild_events:,} events) |"
        )


def _log_proof(settings: Settings, commands: int, events: int) -> None:
    print()
    print(f"## Event log proof: appends ({commands} single-event commands per run)")
    print("| writers | without the chain, commands/s | with it | ratio |")
    print("|---|---|---|---|")
    for writers in (1, 8):
        without, chained = log_proof.append_rates(settings, writers, commands)
        print(
            f"| {writers} | {without:,.0f} | {chained:,.0f} | {chained / without:.2f} |"
        )
    _log_verify(events)


def _log_verify(events: int) -> None:
    size, rate, sha, seconds, written = log_proof.verify_rates(events)
    print()
    print(
        f"## Offline verification of {events:,} events ({size / 1e6:,.0f} MB export,"
        f" written in {written:.1f} s)"
    )
    print("| reader | events/s |")
    print("|---|---|")
    print(f"| assurehub verify-log ({seconds:.1f} s) | {rate:,.0f} |")
    print(f"| sha256sum over the same file | {sha:,.0f} |")


def _webhooks(
    settings: Settings, rate: float, seconds: float, fanout_events: int
) -> None:
    n = webhooks.SUBSCRIPTIONS
    print()
    print(
        f"## Webhook delivery lag at {rate:g} events/s to {n} subscriptions"
        f" for {seconds:g} s (ms)"
    )
    print(
        f"Read as: {n} tenants with one subscription each, events round robin"
        f" over them, so {rate:g} signed POSTs/s; lag = event's store time →"
        " the receiver got the POST. Baseline: a bare POST loop at the same"
        " rate to the same receiver over kept-alive connections."
    )
    lags, stages = webhooks.delivery_lag(settings, rate, seconds)
    bare, _ = webhooks.bare_post_loop(rate, seconds)
    _lag_table(
        (
            ("event recorded → signed POST received", lags),
            ("bare HTTP POST loop → received", bare),
        )
    )
    print()
    print("### Where the lag goes (ms, first attempt of each delivery)")
    _lag_table(tuple(stages.items()))
    if fanout_events <= 0:
        return
    print()
    print(
        f"## Webhook fan-out saturation: {fanout_events} events, each to all"
        f" {n} subscriptions of one tenant"
    )
    print(
        f"The harder reading of the target ({rate:g} events/s to all {n} ="
        f" {rate * n:,.0f} POSTs/s): events recorded at {rate:g}/s, POSTs/s"
        " sustained until all were received, beside a bare POST loop sending"
        " as many as fast as it can with the dispatcher's 16 connections."
    )
    sat = webhooks.fanout_saturation(settings, fanout_events, rate)
    _, bare_rate = webhooks.bare_post_loop(None, 0, posts=sat.posts)
    print("| path | POSTs | seconds | POSTs/s |")
    print("|---|---|---|---|")
    print(
        f"| dispatcher (events recorded → all POSTs received) | {sat.posts:,}"
        f" | {sat.seconds:.1f} | {sat.rate:,.0f} |"
    )
    print(
        f"| bare HTTP POST loop | {sat.posts:,} | {sat.posts / bare_rate:.1f}"
        f" | {bare_rate:,.0f} |"
    )
    print()
    print("first receipt of each event (ms):")
    _lag_table((("event recorded → first of its POSTs received", sat.lags),))


def _lag_table(rows: tuple[tuple[str, list[float]], ...]) -> None:
    print("| path | n | p50 | p95 | p99 | max |")
    print("|---|---|---|---|---|---|")
    for name, values in rows:
        if not values:
            print(f"| {name} | 0 | - | - | - | - |")
            continue
        print(
            f"| {name} | {len(values)} | {percentile(values, 50):.1f} "
            f"| {percentile(values, 95):.1f} | {percentile(values, 99):.1f} "
            f"| {max(values):.1f} |"
        )


def _throughput(settings: Settings, commands: int) -> None:
    print()
    print(f"## Command throughput ({commands} single-event commands per row)")
    print("| writers | event store commands/s | raw psycopg INSERT/s | ratio |")
    print("|---|---|---|---|")
    for writers, store, raw in throughput.run(settings, commands):
        print(f"| {writers} | {store:,.0f} | {raw:,.0f} | {store / raw:.2f} |")


def _appends(settings: Settings, commands: int, processes: int, threads: int) -> None:
    writers = processes * threads
    print()
    print(
        f"## Appends at {writers} writers ({processes} processes of {threads}"
        f" threads; {commands} single-event commands per row; a reader tailing)"
    )
    rows, raw = appends.run(settings, commands, processes, threads)
    print(
        "| workload | path | commands/s | ratio to raw INSERT | events read"
        " | missed | duplicated |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        rate = f"{row.rate:,.0f}"
        if row.rounds:
            rate += f" (median of {', '.join(f'{r:,.0f}' for r in row.rounds)})"
        print(
            f"| {row.workload} | {row.path} | {rate} | {row.rate / raw:.2f}"
            f" | {row.events:,} | {row.missed} | {row.duplicated} |"
        )
    print(f"| raw psycopg INSERT ({writers} threads) | | {raw:,.0f} | 1.00 | | | |")
    paired = {r.path: r.rate for r in rows if r.rounds}
    if len(paired) == len(appends.PAIR):
        neither, both = (paired[p[1]] for p in appends.PAIR)
        print()
        print(
            f"Chained and sealed beside neither (medians of {appends.ROUNDS} rounds"
            f" each, run in turns): {both / neither:.2f}"
        )


def _sealing(settings: Settings, events: int) -> None:
    print()
    print(f"## Appends with personal fields sealed ({events} events per run)")
    print("| workload | writers | sealed events/s | not sealed events/s | ratio |")
    print("|---|---|---|---|---|")
    for workload, writers, sealed, plain in sealing.run(settings, events):
        print(
            f"| {workload} | {writers} | {sealed:,.0f} | {plain:,.0f}"
            f" | {sealed / plain:.2f} |"
        )


def _snapshots(settings: Settings, events: int, repeats: int) -> None:
    print()
    print(
        f"## Aggregate load time (an audit with {events:,} events,"
        f" {repeats} loads per row, ms)"
    )
    print("| loading | events replayed | median | max |")
    print("|---|---|---|---|")
    for how, replayed, median, slowest in snapshots.run(settings, events, repeats):
        print(f"| {how} | {replayed:,} | {median:.1f} | {slowest:.1f} |")


def _as_of(settings: Settings, events: int, requests: int) -> None:
    print()
    print(f"## As-of answers (an audit with {events:,} events, ms)")
    print("| request | n | p50 | p99 | max |")
    print("|---|---|---|---|---|")
    for how, n, p50, p99, slowest in as_of.run(settings, events, requests, 5):
        print(f"| {how} | {n} | {p50:.1f} | {p99:.1f} | {slowest:.1f} |")


def _lag(settings: Settings, rate: float, seconds: float) -> None:
    print()
    print(f"## End-to-end lag at {rate:g}/s for {seconds:g} s (ms)")
    _lag_table(
        (
            (
                "command accepted → visible in query API",
                lag.command_lag(settings, rate, seconds),
            ),
            (
                "same, previous projectors (one consumer per read model)",
                lag.command_lag(settings, rate, seconds, lag.PREVIOUS_PROJECTORS),
            ),
            (
                "raw Kafka produce → consume (acks=all)",
                lag.kafka_round_trip(settings, rate, seconds),
            ),
        )
    )


def _list_query(report: list_query.Report) -> None:
    data = report.dataset
    print()
    print(
        f"## Audit list query: {report.audits:,} audits and {report.findings:,}"
        " findings in the tenant (ms)"
    )
    print(
        f"Loaded with COPY in {data.load_seconds:.0f} s (audits {data.sizes['audits']},"
        f" findings {data.sizes['findings']}, with indexes; a second tenant holds a"
        " tenth as many)."
    )
    for note in report.notes:
        print(f"Note: {note}.")
    print()
    print("| target | clients | n | p50 | p95 | p99 | max | requests/s |")
    print("|---|---|---|---|---|---|---|---|")
    for s in report.rows:
        print(
            f"| {s.target} | {s.clients} | {s.n:,} | {s.p50:.1f} | {s.p95:.1f}"
            f" | {s.p99:.1f} | {s.max:.1f} | {s.per_second:,.0f} |"
        )
    levels = sorted(report.variants)
    print()
    print("### By request (first and next pages; p50/p99 ms by number of clients)")
    print(
        "| request | "
        + " | ".join(f"API p50/p99 ({c}) | SQL p50/p99 ({c})" for c in levels)
        + " |"
    )
    print("|---|" + "---|---|" * len(levels))
    for i, (api, _) in enumerate(report.variants[levels[0]]):
        cells = []
        for c in levels:
            a, q = report.variants[c][i]
            cells.append(f"{a.p50:.1f} / {a.p99:.1f} | {q.p50:.1f} / {q.p99:.1f}")
        print(f"| `{api.target}` | " + " | ".join(cells) + " |")
    print()
    print("### Where one page's time goes (in process, one at a time, median ms)")
    print("| step | ms |")
    print("|---|---|")
    for step, ms in report.breakdown:
        print(f"| {step} | {ms:.2f} |")
    print()
    print("### Outside the mix: SQL alone, one connection (ms)")
    print("| query | median | max |")
    print("|---|---|---|")
    for name, median, slowest in report.probes:
        print(f"| `{name}` | {median:.1f} | {slowest:.1f} |")
    print()
    print(f"### Plan of the slowest request of the mix: {report.plan_of}")
    print("```")
    print(report.plan)
    print("```")


def _history(report: history.Report) -> None:
    print()
    print(
        f"## History reads from the event store ({report.events:,} events, one tenant)"
    )
    print(f"Stored in {report.load_seconds:.0f} s.")
    print()
    print(
        f"| first page of {history.PAGE} events of one aggregate (ms)"
        " | n | p50 | p99 | max |"
    )
    print("|---|---|---|---|---|")
    for name, values in report.page_ms.items():
        cells = (percentile(values, 50), percentile(values, 99), max(values))
        print(
            f"| {name} | {len(values)} | "
            + " | ".join(f"{c:.1f}" for c in cells)
            + " |"
        )
    print()
    print("| pass over the tenant's events | events | seconds | events/s |")
    print("|---|---|---|---|")
    for name, (events, seconds) in report.export.items():
        print(f"| {name} | {events:,} | {seconds:.1f} | {events / seconds:,.0f} |")


def _rebuild(report: rebuild.Report) -> None:
    print()
    print(f"## Rebuild of every read model from {report.events:,} stored events")
    mix = ", ".join(
        f"{name} {count / report.events:.0%}"
        for name, count in sorted(report.by_type.items(), key=lambda kv: -kv[1])[:6]
    )
    print(
        f"Stored in {report.load_seconds:.0f} s ({report.table_mb:,.0f} MB with"
        f" indexes; {len(report.by_type)} event types, most common: {mix})."
    )
    start, end = (", ".join(f"{v:.2f}" for v in load) for load in report.load)
    print(f"Load averages (1, 5, 15 min): {start} at the start, {end} at the end.")
    print()
    print("| pass over every stored event | events | seconds | events/s |")
    print("|---|---|---|---|")
    for t in [*report.timings, *report.one_by_one]:
        print(f"| {t.name} | {t.events:,} | {t.seconds:.1f} | {t.per_second:,.0f} |")


def _feed(report: feed.Report) -> None:
    print()
    print(f"## Feed catch-up of {report.events:,} events of one tenant")
    print(f"Stored in {report.load_seconds:.0f} s (through the feed's index trigger).")
    print()
    print("| pass over every stored event | events | seconds | events/s |")
    print("|---|---|---|---|")
    for t in report.timings:
        print(f"| {t.name} | {t.events:,} | {t.seconds:.1f} | {t.per_second:,.0f} |")


def _documents(report: documents.Report) -> None:
    print()
    print(
        f"## Document rendering (ms): a certificate PDF beside the reportlab floor;"
        f" a report of {report.clauses:,} assessed clauses and {report.findings:,}"
        " findings"
    )
    sizes = ", ".join(
        f"{name} {size / 1024:,.0f} KiB" for name, size in report.sizes.items()
    )
    print(
        f"Sources recorded in {report.record_seconds:.1f} s; the report PDF has"
        f" {report.pages} pages; files: {sizes}."
    )
    print()
    print("| rendering | n | p50 | p99 | max |")
    print("|---|---|---|---|---|")
    for t in report.timings:
        cells = (t.p(50), t.p(99), max(t.values))
        print(f"| {t.name} | {t.n} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
    print()
    print("### Memory of a fresh process rendering one view once (MiB)")
    print("| view | RSS before | peak RSS while rendering | Python peak |")
    print("|---|---|---|---|")
    for m in report.memory:
        cells = (m.rss_before, m.rss_peak, m.python_peak)
        print(f"| {m.name} | " + " | ".join(f"{c:.0f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
