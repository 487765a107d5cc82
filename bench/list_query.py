"""Audit list query: ``GET /audits`` over 100,000 audits and 1,000,000 findings.

Issue 4's target: p99 under 20 ms for a filtered, sorted page. The audits
projection's schema is created with the projection machinery's DDL and
bulk-loaded with ``COPY``: one tenant holding ``audits`` audits and
``findings`` findings, a second tenant with a tenth of that (the same auditor
names, so the tenant condition has rows to exclude). Then, each in its own
process on loopback: the real app (``create_app(bootstrap(settings))`` under
uvicorn, development headers on) and a bare FastAPI app answering a constant
page of the same size (the framework's floor). Client threads (httpx,
keep-alive) issue a fixed number of requests after a warm-up: a mix of
filtered, sorted first pages, and next pages through the returned cursor.
Baselines in the same run: the floor, and the SQL alone (the very requests
the API answered, replayed through ``infra.postgres.listing.statement`` on
psycopg connections). Then the same three at 50 concurrent connections
(issue 4's condition): fresh servers pinned to one CPU and one asyncio load
generator pinned to the other (:mod:`bench.concurrent_load`).

``python -m bench.list_query api|floor --port N [--cpu C]`` serves one of the two apps
(the benchmark starts them itself).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from bench.common import percentile, pin
from bench.processes import free_port, process_env
from domain.principal import Principal, Role
from infra.postgres.listing import decode_cursor, encode_cursor, statement
from infra.postgres.projection_schemas import create_keys, create_tables, record_shape
from infra.postgres.rows import schema_name
from infra.settings import Settings
from projections.audit_tables import AUDITS as AUDITS_TABLE
from projections.audit_tables import COUNT_COLUMNS, finding_counts, finding_flags
from projections.audit_tables import FINDINGS as FINDINGS_TABLE
from projections.audits import AuditProjection
from projections.collections import AUDITS
from read_api.listing import parse_request

TENANT = "bench-list"
OTHER_TENANT = "bench-list-other"
HEADERS = {"X-Dev-Tenant": TENANT, "X-Dev-Actor": "bench", "X-Dev-Roles": "auditor"}
PRINCIPAL = Principal(TENANT, "bench", frozenset({Role.AUDITOR}))
TODAY = date(2026, 11, 30)
FIRST_DAY = TODAY - timedelta(days=2 * 365)  # planned starts: 2 years back, 1 ahead
SPAN_DAYS = 3 * 365
ORGANIZATIONS = 2_000
NAMES = ("lena", "omar", "mia", "jonas", "aiko", "pedro", "sara", "li", "noah", "eva")
AUDITORS = tuple(f"{NAMES[i % 10]}-{i // 10}" for i in range(300))
STANDARDS = (
    ("ISO 9001", "2015"),
    ("ISO 14001", "2015"),
    ("ISO 45001", "2018"),
    ("ISO/IEC 27001", "2022"),
    ("ISO 22000", "2018"),
)
TYPES = {"surveillance": 50, "recertification": 15, "stage_1": 12, "stage_2": 12}
TYPES["special"] = 11
RECENT = {"in_progress": 40, "report_drafted": 20, "under_review": 15}
RECENT |= {"review_approved": 10, "decided": 10, "closed": 5}
PAST = {"closed": 82, "decided": 6, "cancelled": 4, "in_progress": 3}
PAST |= {"review_approved": 2, "under_review": 2, "report_drafted": 1}
GRADES = {"major_nonconformity": 8, "minor_nonconformity": 42, "observation": 30}
GRADES["opportunity_for_improvement"] = 20
OPEN_WORK = {"awaiting_response": 50, "response_submitted": 20, "dismissed": 5}
OPEN_WORK |= {"response_accepted": 15, "action_implemented": 5, "verified": 5}
REVIEWED = {"response_accepted": 30, "action_implemented": 30, "verified": 25}
REVIEWED |= {"closed": 10, "dismissed": 5}
FINISHED = {"closed": 85, "verified": 5, "dismissed": 10}
FINDING_STATUS = {"in_progress": OPEN_WORK, "report_drafted": OPEN_WORK}
FINDING_STATUS |= {"closed": FINISHED}
COUNTS = {(g, s): finding_counts(g, s) for g in GRADES for s in FINISHED | REVIEWED}
COUNTS |= {(g, s): finding_counts(g, s) for g in GRADES for s in OPEN_WORK}
WORDS = "design manufacture supply installation servicing pumps valves software"
WORDS += " logistics warehousing calibration laboratory catering cleaning"


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(tuple(weights), tuple(weights.values()))[0]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(10 * 3600)
    )


@dataclass
class _Audit:
    """What the findings of one audit need, and what they add to its row."""

    id: uuid.UUID
    organization_id: uuid.UUID
    planned_start: date
    status: str
    lead: str | None
    team: list[str]
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(COUNT_COLUMNS, 0)
    )


def _plan(rng: random.Random, organizations: list[uuid.UUID]) -> _Audit:
    start = FIRST_DAY + timedelta(days=rng.randrange(SPAN_DAYS))
    age = (TODAY - start).days
    if age < 0:
        status = "cancelled" if rng.random() < 0.05 else "planned"
    else:
        status = _pick(rng, RECENT if age < 45 else PAST)
    # A few large clients, a long tail of small ones.
    organization = organizations[int(len(organizations) * rng.random() ** 2)]
    lead = None if status == "planned" and rng.random() < 0.1 else rng.choice(AUDITORS)
    team = sorted({*rng.sample(AUDITORS, rng.randrange(4)), *([lead] if lead else [])})
    return _Audit(_uuid(rng), organization, start, status, lead, team)


def _finding(rng: random.Random, tenant: str, audit: _Audit) -> list[Any]:
    grade = _pick(rng, GRADES)
    status = _pick(rng, FINDING_STATUS.get(audit.status, REVIEWED))
    for column, n in COUNTS[grade, status].items():
        audit.counts[column] += n
    raised = audit.planned_start + timedelta(days=rng.randrange(3))
    responded = status not in ("awaiting_response", "dismissed")
    due = raised + timedelta(days=30 + rng.randrange(60)) if responded else None
    finished = status in ("closed", "verified")
    row = {
        "tenant_id": tenant,
        "id": _uuid(rng),
        "audit_id": audit.id,
        "organization_id": audit.organization_id,
        "team": audit.team,
        "clause_id": f"{rng.randint(4, 10)}.{rng.randint(1, 9)}.{rng.randint(1, 5)}",
        "grade": grade,
        "status": status,
        **finding_flags(grade, status),
        "due_date": due,
        "description": f"Procedure for {rng.choice(WORDS.split())} not followed",
        "objective_evidence": f"Record {rng.randrange(10_000)} lacks a signature",
        "evidence_ids": "[]",
        "raised_on": raised,
        "raised_by": audit.lead or "planner",
        "response": json.dumps({"cause": "Training gap", "due_date": str(due)})
        if responded
        else None,
        "rejection_reason": None,
        "implemented_on": raised + timedelta(days=20) if finished else None,
        "verified_by": audit.lead if finished else None,
        "verified_on": raised + timedelta(days=25) if finished else None,
        "dismissal_reason": "Duplicate" if status == "dismissed" else None,
        "regrades": "[]",
        "closed_at": _moment(raised + timedelta(days=40), rng)
        if status == "closed"
        else None,
        "raised_at": _moment(raised, rng),
        "version": rng.randint(5, 80),
        "position": rng.randrange(10**9),
        "updated_at": _moment(
            min(raised + timedelta(days=rng.randrange(90)), TODAY), rng
        ),
    }
    return [row[c] for c in FINDINGS_TABLE.column_names]


def _audit_row(rng: random.Random, tenant: str, audit: _Audit) -> list[Any]:
    start, status = audit.planned_start, audit.status
    started = status not in ("planned", "cancelled")
    reviewed = status in ("review_approved", "decided", "closed")
    decided = status in ("decided", "closed")
    standard, edition = STANDARDS[rng.randrange(len(STANDARDS))]
    created = _moment(start - timedelta(days=30 + rng.randrange(60)), rng)
    updated = _moment(min(start + timedelta(days=rng.randrange(120)), TODAY), rng)
    roles = {"lead_auditor": audit.lead, "auditors": audit.team, "observers": []}
    review = {"outcome": "approved", "by": "reviewer-1", "at": updated.isoformat()}
    row = {
        "tenant_id": tenant,
        "id": audit.id,
        "organization_id": audit.organization_id,
        "site_ids": json.dumps([str(_uuid(rng)) for _ in range(rng.randint(1, 3))]),
        "audit_type": _pick(rng, TYPES),
        "status": status,
        "standard_template_id": uuid.uuid5(uuid.NAMESPACE_URL, standard),
        "standard_version": 1,
        "standard_name": standard,
        "standard_edition": edition,
        "planned_start": start,
        "planned_end": start + timedelta(days=rng.randint(1, 5)),
        "scope_statement": " ".join(rng.sample(WORDS.split(), 6)).capitalize(),
        "planned_by": f"planner-{rng.randrange(20)}",
        "started_on": start if started else None,
        "lead_auditor": audit.lead,
        "team": audit.team,
        "team_roles": json.dumps(roles),
        "report_summary": "Effective system, minor gaps" if started else None,
        "report_drafted_at": updated if started else None,
        "technical_reviewer": "reviewer-1" if reviewed else None,
        "submitted_at": updated if reviewed else None,
        "review_outcome": "approved" if reviewed else None,
        "review_comments": None,
        "reviewed_at": updated if reviewed else None,
        "reviews": json.dumps([review] if reviewed else []),
        "decision_outcome": "grant" if decided else None,
        "decision_reasons": "Requirements met" if decided else None,
        "decided_by": "decider-1" if decided else None,
        "decided_on": start + timedelta(days=60) if decided else None,
        "decision_basis": None,
        "past_decisions": "[]",
        "closed_at": updated if status == "closed" else None,
        "cancellation_reason": "Client postponed" if status == "cancelled" else None,
        "cancelled_at": updated if status == "cancelled" else None,
        "reopenings": "[]",
        **audit.counts,
        "created_at": created,
        "content_version": 2,
        "version": rng.randint(3, 200),
        "position": rng.randrange(10**9),
        "updated_at": updated,
    }
    return [row[c] for c in AUDITS_TABLE.column_names]


def _copy(conn: psycopg.Connection[Any], table: str, rows: Iterator[list[Any]]) -> None:
    columns = {"audits": AUDITS_TABLE, "findings": FINDINGS_TABLE}[table].column_names
    target = sql.Identifier(schema_name(AuditProjection.name), table)
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)


def _tenant(
    conn: psycopg.Connection[Any], tenant: str, audits: int, findings: int
) -> list[str]:
    """COPY one tenant's rows; return its organization ids."""
    rng = random.Random(tenant)
    organizations = [_uuid(rng) for _ in range(ORGANIZATIONS)]
    planned = [_plan(rng, organizations) for _ in range(audits)]
    started = [a for a in planned if a.status not in ("planned", "cancelled")]
    owners = [rng.choice(started) for _ in range(findings)] if started else []
    _copy(conn, "findings", (_finding(rng, tenant, a) for a in owners))
    _copy(conn, "audits", (_audit_row(rng, tenant, a) for a in planned))
    return [str(o) for o in organizations]


@dataclass(frozen=True)
class Dataset:
    """What was loaded: sizes, and the organizations the queries pick from."""

    organizations: list[str]
    load_seconds: float
    sizes: dict[str, str]


def load(settings: Settings, audits: int, findings: int) -> Dataset:
    """Create the audits projection's schema and COPY both tenants into it."""
    started = time.perf_counter()
    schema = schema_name(AuditProjection.name)
    tables = AuditProjection.tables
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        with conn.transaction():
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)
                )
            )
            create_tables(conn, schema, tables)
            organizations = _tenant(conn, TENANT, audits, findings)
            _tenant(conn, OTHER_TENANT, audits // 10, findings // 10)
            create_keys(conn, schema, tables)
            record_shape(conn, AuditProjection(), 0)
        for table in ("audits", "findings"):
            conn.execute(
                sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(schema, table))
            )
        sizes = {
            table: str(
                conn.execute(
                    "SELECT pg_size_pretty(pg_total_relation_size(%s))",
                    (f"{schema}.{table}",),
                ).fetchone()[0]  # type: ignore[index]
            )
            for table in ("audits", "findings")
        }
    return Dataset(organizations, time.perf_counter() - started, sizes)


# -- the queries ---------------------------------------------------------------


MIX = (
    "status=in_progress&sort=-planned_start&limit=50",
    "status=closed&sort=-planned_start",
    "organization_id={organization}",
    "auditor={auditor}&sort=-planned_start",
    "lead_auditor={auditor}&sort=-planned_start",
    "planned_start_from={start}&planned_start_to={end}&sort=planned_start",
    f"status=planned&audit_type=surveillance&planned_start_from={TODAY}"
    "&sort=planned_start",
    "sort=updated_at",
)
"""The requests of the mix (first pages), ``{…}`` drawn at random per request:
filters and sorts a compliance user runs, from a big status class to one
organization (few large clients, a long tail) or one auditor's audits."""


@dataclass(frozen=True)
class Draw:
    """Draws the ``{…}`` values of :data:`MIX` from the loaded data."""

    organizations: list[str]

    def __call__(self, template: str, rng: random.Random) -> dict[str, str]:
        orgs = self.organizations
        start = FIRST_DAY + timedelta(days=rng.randrange(SPAN_DAYS - 30))
        query = template.format(
            organization=orgs[int(len(orgs) * rng.random() ** 2)],
            auditor=rng.choice(AUDITORS),
            start=start,
            end=start + timedelta(days=30),
        )
        return dict(parse_qsl(query))


@dataclass(frozen=True)
class Sample:
    """One timed request."""

    variant: str
    page: int
    params: dict[str, str]
    ms: float


MAX_NEXT_PAGES = 3


def _api_client(url: str, draw: Draw, seed: int, count: int) -> list[Sample]:
    """``count`` requests back to back: a first page, then maybe next pages."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
        while len(samples) < count:
            variant = rng.choice(MIX)
            params, page = draw(variant, rng), 0
            while len(samples) < count:
                started = time.perf_counter()
                response = client.get("/audits", params=params)
                ms = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"GET /audits {params}: {response.text[:300]}")
                samples.append(Sample(variant, page, params, ms))
                if page == MAX_NEXT_PAGES or rng.random() < 0.5:
                    break
                cursor = response.json()["next_cursor"]
                if cursor is None:
                    break
                params, page = {**params, "cursor": cursor}, page + 1
    return samples


def _sql_client(dsn: str, script: list[Sample]) -> list[Sample]:
    """The statements the API ran for ``script``, timed alone on one connection."""
    done = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sample in script:
            query = parse_request(AUDITS, list(sample.params.items())).query
            after = decode_cursor(query) if query.cursor else None
            composed, values = statement(
                PRINCIPAL, AUDITS, query, after=after, limit=query.limit + 1
            )
            started = time.perf_counter()
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(composed, values).fetchall()
            ms = (time.perf_counter() - started) * 1000
            done.append(Sample(sample.variant, sample.page, sample.params, ms))
    return done


def _floor_client(url: str, count: int) -> list[Sample]:
    samples = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(count):
            started = time.perf_counter()
            response = client.get("/floor")
            ms = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            samples.append(Sample("floor", 0, {}, ms))
    return samples


def _threads(
    work: list[Callable[[], list[Sample]]],
) -> tuple[list[list[Sample]], float]:
    """Run each client on its own thread; its samples, and the seconds taken."""
    results: list[list[Sample]] = [[] for _ in work]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = work[i]()
        except BaseException as e:  # reported below, after every thread ends
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results, time.perf_counter() - started


# -- the servers ---------------------------------------------------------------


def audits_route_mounted() -> bool:
    """Whether ``create_app`` mounts ``GET /audits`` itself (it may not yet)."""
    from read_api import app, audits

    return audits.router in app.ROUTERS


@contextmanager
def serve(settings: Settings, kind: str, *extra: str) -> Iterator[str]:
    """``python -m bench.list_query <kind>`` on a free loopback port."""
    port = free_port()
    env = process_env(settings, port)
    command = [sys.executable, "-m", "bench.list_query", kind, "--port", str(port)]
    process = subprocess.Popen([*command, *extra], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health/live", timeout=1)
                break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _api_app() -> Any:
    from infra.bootstrap import bootstrap
    from infra.logs import configure_logging
    from infra.settings import load_settings
    from read_api import audits
    from read_api.app import create_app

    settings = load_settings()
    configure_logging(settings)
    app = create_app(bootstrap(settings))
    if not audits_route_mounted():
        app.include_router(audits.router)
    return app


def _floor_app(page: Path) -> Any:
    """A bare FastAPI app: ``GET /floor`` answers one constant page."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    body = json.loads(page.read_text())
    app = FastAPI()

    @app.get("/floor")
    async def floor() -> JSONResponse:
        return JSONResponse(body)

    return app


def _serve_main(argv: list[str]) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.list_query")
    parser.add_argument("kind", choices=("api", "floor"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--page", type=Path)
    parser.add_argument("--cpu", type=int, help="pin the server to this CPU")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        pin(args.cpu)
    app = _api_app() if args.kind == "api" else _floor_app(args.page)
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, log_config=None, access_log=False
    )


# -- measuring --------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Latency percentiles (ms) and throughput of one set of requests."""

    target: str
    clients: int
    n: int
    p50: float
    p95: float
    p99: float
    max: float
    per_second: float

    @classmethod
    def of(cls, target: str, clients: int, ms: list[float], seconds: float) -> Stats:
        return cls(
            target,
            clients,
            len(ms),
            percentile(ms, 50),
            percentile(ms, 95),
            percentile(ms, 99),
            max(ms),
            len(ms) / seconds,
        )


@dataclass
class Report:
    """Everything the section prints."""

    audits: int
    findings: int
    dataset: Dataset
    rows: list[Stats] = field(default_factory=list)
    variants: dict[int, list[tuple[Stats, Stats]]] = field(default_factory=dict)
    """Per number of clients: (API, SQL alone) for each request of the mix."""
    breakdown: list[tuple[str, float]] = field(default_factory=list)
    probes: list[tuple[str, float, float]] = field(default_factory=list)
    plan_of: str = ""
    plan: str = ""
    notes: list[str] = field(default_factory=list)


def _ms(samples: list[Sample]) -> list[float]:
    return [s.ms for s in samples]


def compiled(params: dict[str, str]) -> tuple[sql.Composed, dict[str, Any]]:
    """The statement and values the API runs for ``params``."""
    query = parse_request(AUDITS, list(params.items())).query
    after = decode_cursor(query) if query.cursor else None
    return statement(PRINCIPAL, AUDITS, query, after=after, limit=query.limit + 1)


def _check_same_rows(url: str, dsn: str, draw: Draw) -> None:
    """The API answers each request of the mix with the rows its SQL selects."""
    rng = random.Random(7)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for template in MIX:
            params = draw(template, rng)
            got = httpx.get(f"{url}/audits", params=params, headers=HEADERS, timeout=30)
            composed, values = compiled(params)
            rows = conn.execute(composed, values).fetchall()
            ids = [str(r[0]) for r in rows[:50]]
            if [item["id"] for item in got.json()["items"]] != ids:
                raise RuntimeError(f"{template}: the API and the SQL disagree")


def _time(action: Callable[[], object], repeats: int) -> list[float]:
    action()
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _breakdown(settings: Settings, params: dict[str, str]) -> list[tuple[str, float]]:
    """Median ms of each step of one page, in this process, one at a time."""
    from fastapi.responses import JSONResponse
    from pydantic_core import to_jsonable_python

    from infra.postgres.pool import Database

    composed, values = compiled(params)
    database = Database.from_settings(settings)
    try:
        with database.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(composed, values).fetchall()[:50]

            def query() -> None:
                cur.execute(composed, values).fetchall()

            sql_ms = statistics.median(_time(query, 50))

        def checkout() -> None:
            with database.connection():
                pass

        pool_ms = statistics.median(_time(checkout, 50))
    finally:
        database.close()
    items = [{k: v for k, v in r.items() if k in AUDITS.output_columns} for r in rows]
    plain = to_jsonable_python(items)
    return [
        ("pool checkout (its connection check is a round trip)", pool_ms),
        ("SQL: execute + fetch 51 rows as dicts", sql_ms),
        (
            "rows → JSON types (to_jsonable_python)",
            statistics.median(_time(lambda: to_jsonable_python(items), 50)),
        ),
        (
            "JSON text (JSONResponse render)",
            statistics.median(
                _time(lambda: JSONResponse({"items": plain, "next_cursor": None}), 50)
            ),
        ),
    ]


def _probes(dsn: str, repeats: int) -> list[tuple[str, float, float]]:
    """SQL alone for queries outside the mix: other sorts, free text, deep pages."""
    found = []
    with psycopg.connect(dsn, autocommit=True) as conn:

        def deep(params: dict[str, str], pages: int) -> dict[str, str]:
            for _ in range(pages):
                composed, values = compiled(params)
                with conn.cursor(row_factory=dict_row) as cur:
                    last = cur.execute(composed, values).fetchall()[49]
                query = parse_request(AUDITS, list(params.items())).query
                params = {**params, "cursor": encode_cursor(query, last)}
            return params

        probes = {
            "sort=status": {"sort": "status"},
            "sort=-planned_end": {"sort": "-planned_end"},
            "sort=-started_on (nullable)": {"sort": "-started_on"},
            "q=pumps (free text)": {"q": "pumps"},
            "page 21 of sort=updated_at": deep({"sort": "updated_at"}, 20),
            "page 21 of status=closed, -planned_start": deep(
                {"status": "closed", "sort": "-planned_start"}, 20
            ),
        }
        for name, params in probes.items():
            composed, values = compiled(params)
            times = _time(partial(_fetch, conn, composed, values), repeats)
            found.append((name, statistics.median(times), max(times)))
    return found


def _fetch(conn: psycopg.Connection[Any], composed: sql.Composed, values: Any) -> None:
    conn.execute(composed, values).fetchall()


def _explain(dsn: str, params: dict[str, str]) -> str:
    composed, values = compiled(params)
    with psycopg.connect(dsn, autocommit=True) as conn:
        text = composed.as_string(conn)
        plan = conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) ") + composed, values)
        lines = [str(r[0]) for r in plan.fetchall()]
    return "\n".join([f"-- {json.dumps(params)}", text, "", *lines])


def _measure(
    api: str, floor: str, dsn: str, draw: Draw, clients: int, requests: int
) -> tuple[list[Stats], list[Sample], list[Sample]]:
    """API, floor and SQL alone with ``clients`` threads, each after a warm-up."""
    per = max(1, requests // clients)
    warm = max(20, per // 10)
    _threads([partial(_api_client, api, draw, 100 + i, warm) for i in range(clients)])
    scripts, api_s = _threads(
        [partial(_api_client, api, draw, i, per) for i in range(clients)]
    )
    _threads([partial(_floor_client, floor, warm)] * clients)
    floors, floor_s = _threads([partial(_floor_client, floor, per)] * clients)
    _threads([partial(_sql_client, dsn, s[:warm]) for s in scripts])
    sqls, sql_s = _threads([partial(_sql_client, dsn, s) for s in scripts])
    api_samples = [s for r in scripts for s in r]
    sql_samples = [s for r in sqls for s in r]
    return (
        [
            Stats.of("GET /audits (real app)", clients, _ms(api_samples), api_s),
            Stats.of(
                "constant page (framework floor)",
                clients,
                [s.ms for r in floors for s in r],
                floor_s,
            ),
            Stats.of("SQL alone (psycopg)", clients, _ms(sql_samples), sql_s),
        ],
        api_samples,
        sql_samples,
    )


def _ms_of(sample: Sample) -> float:
    return sample.ms


def _by_variant(samples: list[Sample], clients: int) -> list[Stats]:
    return [
        Stats.of(t, clients, _ms([s for s in samples if s.variant == t]), 1.0)
        for t in MIX
    ]


ConnectionsRun = Callable[[Settings, "Report", Draw, bytes, int, int], None]
"""Measures at many connections: settings, report, draw, page, connections,
requests."""


def run(
    settings: Settings,
    audits: int = 100_000,
    findings: int = 1_000_000,
    requests: int = 3_000,
    concurrency: tuple[int, ...] = (1, 4),
    connections: int = 50,
    at_connections: ConnectionsRun | None = None,
) -> Report:
    """Load the data, serve both apps, measure; see the module docstring.

    ``at_connections`` (:func:`bench.concurrent_load.measure_connections`)
    adds the run at ``connections`` concurrent connections.
    """
    dsn = str(settings.database_url)
    dataset = load(settings, audits, findings)
    draw = Draw(dataset.organizations)
    report = Report(audits, findings, dataset)
    if not audits_route_mounted():
        report.notes.append(
            "`create_app` does not mount `read_api.audits` yet; the bench server"
            " includes that router itself (same app, middleware and handlers)"
        )
    sample_page = draw(MIX[1], random.Random(0))
    alone: list[Sample] = []
    with serve(settings, "api") as api, tempfile.TemporaryDirectory() as tmp:
        _check_same_rows(api, dsn, draw)
        page = Path(tmp) / "page.json"
        page_bytes = httpx.get(
            f"{api}/audits", params=sample_page, headers=HEADERS
        ).content
        page.write_bytes(page_bytes)
        report.notes.append(f"floor page: {page.stat().st_size:,} bytes (50 audits)")
        with serve(settings, "floor", "--page", str(page)) as floor:
            for clients in concurrency:
                rows, api_samples, sql_samples = _measure(
                    api, floor, dsn, draw, clients, requests
                )
                report.rows += rows
                report.variants[clients] = list(
                    zip(
                        _by_variant(api_samples, clients),
                        _by_variant(sql_samples, clients),
                        strict=True,
                    )
                )
                if clients == concurrency[0]:
                    alone = sql_samples
    if connections and at_connections is not None:
        at_connections(settings, report, draw, page_bytes, connections, requests)
    slowest = max(report.variants[concurrency[0]], key=lambda pair: pair[1].p99)
    worst = max((s for s in alone if s.variant == slowest[1].target), key=_ms_of)
    report.plan_of = (
        f"`{worst.variant}` (page {worst.page + 1}, {worst.ms:.1f} ms alone,"
        f" {concurrency[0]} client)"
    )
    report.plan = _explain(dsn, worst.params)
    report.breakdown = _breakdown(settings, sample_page)
    report.probes = _probes(dsn, 10)
    return report


if __name__ == "__main__":
    _serve_main(sys.argv[1:])
