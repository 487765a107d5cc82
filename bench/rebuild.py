"""Rebuild of every read model from a large event store, beside a raw read.

The store is filled with the real domain: tenants whose standard templates
are drafted and published, document templates, people (invited, active,
logging in: their e-mail, name and addresses sealed with their keys, which
are stored with the events), organizations with sites,
and audits run through planning, team, start, assessments, findings with
their responses and corrective actions, report, review, decision and close,
each granted audit followed by a certificate (some suspended and
reinstated). Every aggregate's events are serialized by the application's
own mapper; the first batch goes in through the library's recorder (its
locked ``INSERT``), the rest with ``COPY`` into the same table, so the rows
are exactly what the application stores and a sample is decoded back to the
events it came from.

Then, on the same rows and in the same run:

* ``rebuild --all``: every projection of :data:`READ_MODELS` rebuilt through
  the real :class:`~infra.projection.rebuild.Rebuilder`, as the CLI does it
  (its folds split over two processes), again in one process, and again
  without opening personal fields (issue 14: what opening them costs);
* the raw read (the floor): every row fetched with psycopg through a
  server-side cursor, all columns, nothing decoded;
* read + decode + envelope: what the rebuild does per event before folding.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock
from uuid import UUID, uuid4

import psycopg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from domain.account import Account
from domain.audit import Audit
from domain.audit_values import Grade
from domain.certificate import Certificate
from domain.document_template import DocumentTemplate
from domain.events import EventMeta
from domain.organization import Organization
from domain.standard_template import StandardTemplate
from infra.bootstrap import bootstrap
from infra.eventlog.watch import verify_tenant
from infra.eventstore.chain import chain_links, linkable
from infra.eventstore.store import EVENTS_TABLE, LibraryEventStore, postgres_env
from infra.postgres.person_keys import insert_keys_statement, key_parameters
from infra.postgres.pool import Database
from infra.projection import rebuild as rebuild_module
from infra.projection.registry import READ_MODELS
from infra.settings import Settings

DAY0 = date(2024, 1, 8)
BATCH = 50_000
FEED_TRIGGER = "event_feed_index"
"""The trigger that indexes each stored event for the event feed."""
LIBRARY_BATCH = 500
"""Events of the first batch, written by the library's own insert (larger
batches stall its pipelined ``executemany``)."""
CLAUSES = [f"{major}.{minor}" for major in range(4, 11) for minor in range(1, 6)]


@dataclass(frozen=True)
class Timing:
    """One way through every stored event."""

    name: str
    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


@dataclass
class Report:
    """What :func:`run` measured."""

    events: int
    by_type: dict[str, int]
    load_seconds: float
    table_mb: float
    timings: list[Timing]
    one_by_one: list[Timing]
    load: tuple[tuple[float, float, float], tuple[float, float, float]]
    """Load averages (1, 5, 15 minutes) at the start and at the end."""


class _Tenant:
    """One tenant's reference data, shared by its audits."""

    def __init__(self, rng: random.Random, n: int, name: str | None = None) -> None:
        self.name = name or f"bench-rb-{n}"
        self.code = f"CB{n}"
        self.rng = rng
        self.auditors = [f"auditor-{n}-{i}" for i in range(12)]
        self.reviewers = [f"reviewer-{n}-{i}" for i in range(3)]
        self.deciders = [f"decider-{n}-{i}" for i in range(2)]
        self.serial = 0

    def meta(self, actor: str = "planner") -> EventMeta:
        return EventMeta(self.name, actor, "bench-correlation", "bench-causation")


def _templates(t: _Tenant) -> tuple[list[Aggregate], StandardTemplate]:
    standard = StandardTemplate.draft(t.meta(), "ISO 9001", "2015", "Quality")
    for clause in CLAUSES:
        parent = clause.split(".")[0]
        if clause.endswith(".1"):
            standard.add_clause(t.meta(), parent, f"Clause {parent}", "Requirements")
        standard.add_clause(
            t.meta(), clause, f"Requirement {clause}", "The organization shall…", parent
        )
    standard.publish(t.meta(), DAY0)
    report = DocumentTemplate.create(
        t.meta(),
        "audit_report",
        "Audit report",
        "ACME Certification",
        ["summary", "scope", "team", "assessment", "findings", "conclusion"],
        "Lead auditor",
    )
    cert = DocumentTemplate.create(
        t.meta(),
        "certificate",
        "Certificate",
        "ACME Certification",
        ["holder", "scope", "sites", "validity", "signatures"],
        "Managing director",
    )
    return [standard, report, cert], standard


def _organization(t: _Tenant, n: int) -> tuple[Organization, list[UUID]]:
    rng = t.rng
    org = Organization.register(t.meta(), f"Client {n} AB", "SE", f"556{n:07d}")
    sites = [
        org.add_site(t.meta(), f"Site {s}", f"Industrigatan {s + 1}, Göteborg")
        for s in range(rng.choice((1, 1, 2, 3)))
    ]
    if rng.random() < 0.2:
        org.rename(t.meta(), f"Client {n} Group AB")
    if rng.random() < 0.1:
        org.change_details(t.meta(), "NO", f"9{n:08d}")
    return org, sites


ACCOUNTS = 200
"""People per tenant: each invited, activated, logged in ten times and once
failing (personal fields sealed with the person's key: e-mail, name,
address), so that the rebuild opens personal fields as a real store's does."""


def _accounts(t: _Tenant) -> Iterator[Account]:
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    for n in range(ACCOUNTS):
        account = Account.invite(
            t.meta("admin"),
            f"person{n}@{t.name}.example.com",
            f"Person {n} of {t.name}",
            ["auditor"],
            (),
            expires,
        )
        account.activate(t.meta("admin"), datetime(2026, 1, 1, tzinfo=UTC))
        for i in range(10):
            account.record_login_succeeded(
                t.meta(), "password", f"203.0.113.{(n + i) % 250}", uuid4()
            )
        account.record_login_failed(t.meta(), "bad_password", "198.51.100.7")
        yield account


def _audit(
    t: _Tenant,
    org: Organization,
    sites: list[UUID],
    standard: StandardTemplate,
    start: date,
    finish: bool,
) -> tuple[Audit, Certificate | None]:
    rng = t.rng
    audit = Audit.plan(
        t.meta(),
        organization_id=org.id,
        site_ids=sites,
        standard_template_id=standard.id,
        standard_version=1,
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_type=rng.choice(("stage_2", "surveillance", "recertification")),
        planned_start=start,
        planned_end=start + timedelta(days=2),
        scope_statement="Design, manufacture and servicing of industrial pumps",
    )
    team = rng.sample(t.auditors, 3)
    audit.assign_team(t.meta(), team[0], team[1:2], team[2:], ())
    if not finish and rng.random() < 0.3:
        return audit, None  # still planned
    audit.start(t.meta(team[0]), start)
    for clause in rng.sample(CLAUSES, rng.randint(18, 30)):
        result = "conforming" if rng.random() < 0.9 else "nonconforming"
        audit.assess_requirement(
            t.meta(team[0]), clause, result, f"Sampled records for {clause}"
        )
    findings = []
    for _ in range(rng.choice((0, 1, 2, 3, 3, 4))):
        grade = rng.choice(
            (Grade.MINOR_NONCONFORMITY, Grade.MINOR_NONCONFORMITY, Grade.OBSERVATION)
        )
        clause = rng.choice(CLAUSES)
        finding = audit.raise_finding(
            t.meta(team[0]),
            clause,
            grade,
            f"Records of {clause} incomplete",
            "Three of ten sampled records lacked a signature",
            start,
        )
        findings.append((finding, grade))
    if not finish:
        return audit, None  # in progress
    day = start + timedelta(days=3)
    for finding, grade in findings:
        if grade is Grade.OBSERVATION:
            audit.close_finding(t.meta(team[0]), finding)
            continue
        audit.submit_response(
            t.meta("client"),
            finding,
            "Training gap",
            "Records signed",
            "Training of all operators",
            day + timedelta(days=60),
        )
        if rng.random() < 0.1:
            audit.reject_response(t.meta(team[0]), finding, "Cause not analysed")
            audit.submit_response(
                t.meta("client"),
                finding,
                "Procedure unclear",
                "Records signed",
                "Procedure rewritten and trained",
                day + timedelta(days=60),
            )
        audit.accept_response(t.meta(team[0]), finding)
        audit.implement_corrective_action(t.meta("client"), finding, day)
        audit.verify_effectiveness(t.meta(team[0]), finding, team[0], day)
        audit.close_finding(t.meta(team[0]), finding)
    audit.draft_report(t.meta(team[0]), "The management system is effective.")
    reviewer = rng.choice(t.reviewers)
    audit.submit_for_review(t.meta(team[0]), reviewer)
    audit.approve_review(t.meta(reviewer), "Agreed")
    decider = rng.choice(t.deciders)
    audit.record_decision(t.meta(decider), decider, "grant", "Criteria met", day)
    audit.close(t.meta(decider))
    t.serial += 1
    cert = Certificate.issue(
        t.meta(decider),
        number=f"{t.code}-{day.year}-{t.serial:06d}",
        organization_id=org.id,
        site_ids=sites,
        site_scopes=["Manufacture of pumps"] * len(sites),
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_id=audit.id,
        decision_date=day,
        issue_date=day,
        effective_date=day,
        expiry_date=day + timedelta(days=3 * 365 - 1),
    )
    if rng.random() < 0.05:
        cert.suspend(t.meta(decider), "Surveillance overdue", day + timedelta(days=30))
        cert.reinstate(t.meta(decider), day + timedelta(days=40))
    return audit, cert


def aggregates(
    events: int, seed: int = 4, tenant: str | None = None
) -> Iterator[Aggregate]:
    """Aggregates with pending events, about ``events`` of them in all (all
    in ``tenant`` if given, else spread over tenants of 500 organizations)."""
    rng = random.Random(seed)
    made = 0
    tenant_no = 0
    while made < events:
        t = _Tenant(rng, tenant_no)
        if tenant is not None:
            t.name = tenant
        tenant_no += 1
        templates, standard = _templates(t)
        for aggregate in templates:
            made += len(aggregate.pending_events)
            yield aggregate
        for account in _accounts(t):
            made += len(account.pending_events)
            yield account
        for n in range(500):  # organizations per tenant
            org, sites = _organization(t, n)
            made += len(org.pending_events)
            yield org
            audits = rng.choice((1, 2, 3, 3, 4))
            for a in range(audits):
                start = DAY0 + timedelta(days=rng.randrange(0, 900))
                audit, cert = _audit(t, org, sites, standard, start, a < audits - 1)
                for made_now in (audit, cert):
                    if made_now is not None:
                        made += len(made_now.pending_events)
                        yield made_now
            if made >= events:
                return


def fill(
    settings: Settings, events: int, tenant: str | None = None, feed: bool = True
) -> tuple[int, dict[str, int], float]:
    """Store about ``events`` events (all in ``tenant`` if given); return
    (stored, count by type, seconds). With ``feed=False`` the rows after the
    first batch are copied with the event feed's trigger off (in the copying
    transaction), so they are not in the feed: its per-row function is most
    of the time a copy takes, and only the feed and history benches read the
    feed. Every copied event gets its hash chain link (:class:`_Chain`), so
    the store is one the log watcher verifies."""
    started = time.perf_counter()
    store = LibraryEventStore(postgres_env(settings, snapshots=False))
    mapper = store.app.mapper
    by_type: dict[str, int] = {}
    samples: list[Any] = []
    batch: list[StoredEvent] = []
    stored = 0
    first = True
    chain = _Chain()
    try:
        with psycopg.connect(str(settings.database_url)) as conn:
            for aggregate in aggregates(events, tenant=tenant):
                for event in aggregate.collect_events():
                    name = type(event).TYPE  # type: ignore[attr-defined]
                    by_type[name] = by_type.get(name, 0) + 1
                    batch.append(mapper.to_stored_event(event))
                    if stored % 99_991 == 0:
                        samples.append((event, batch[-1]))
                    stored += 1
                if len(batch) >= (LIBRARY_BATCH if first else BATCH):
                    _write(store, conn, chain, batch, through_library=first, feed=feed)
                    first = False
                    batch = []
            _write(store, conn, chain, batch, through_library=first, feed=feed)
        _check(store, samples)
        _check_chain(settings, samples)
    finally:
        store.close()
    return stored, by_type, time.perf_counter() - started


def _write(
    store: LibraryEventStore,
    conn: psycopg.Connection[Any],
    chain: _Chain,
    batch: list[StoredEvent],
    through_library: bool,
    feed: bool = True,
) -> None:
    if through_library:
        store.app.recorder.insert_events(batch)  # chained by the recorder
        return
    if not feed:
        conn.execute(f"ALTER TABLE {EVENTS_TABLE} DISABLE TRIGGER {FEED_TRIGGER}")
    head = conn.execute(
        f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
    ).fetchone()
    with (
        conn.cursor() as cursor,
        cursor.copy(
            f"COPY {EVENTS_TABLE} (originator_id, originator_version, topic, state)"
            " FROM STDIN"
        ) as copy,
    ):
        for s in batch:
            copy.write_row((s.originator_id, s.originator_version, s.topic, s.state))
    chain.link(conn, batch, head[0] if head else 0)
    keys = getattr(store.app.recorder, "new_keys", None)
    new = keys.take_new() if keys is not None else []
    for start in range(0, len(new), 1000):
        part = new[start : start + 1000]
        conn.execute(insert_keys_statement(len(part)), key_parameters(part))
    if not feed:
        conn.execute(f"ALTER TABLE {EVENTS_TABLE} ENABLE TRIGGER {FEED_TRIGGER}")
    conn.commit()


class _Chain:
    """The hash chain links of copied events, each tenant's chain carried on
    from its newest link (the library batch's, then each copy's)."""

    def __init__(self) -> None:
        self.heads: dict[str, bytes] | None = None

    def link(
        self, conn: psycopg.Connection[Any], batch: list[StoredEvent], after: int
    ) -> None:
        """Chain ``batch``, just copied after position ``after`` (the bench
        is the only writer: its rows took the positions after it, in order)."""
        if self.heads is None:
            self.heads = {
                tenant: bytes(head)
                for tenant, head in conn.execute(
                    "SELECT DISTINCT ON (tenant_id) tenant_id, hash FROM event_chain"
                    " ORDER BY tenant_id, position DESC"
                )
            }
        positions = [
            row[0]
            for row in conn.execute(
                f"SELECT notification_id FROM {EVENTS_TABLE}"
                " WHERE notification_id > %s ORDER BY notification_id",
                (after,),
            )
        ]
        assert len(positions) == len(batch), "another writer shares the store"
        links = chain_links([linkable(s) for s in batch], positions, self.heads)
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY event_chain (position, tenant_id, recorded_at, previous_hash,"
                " hash) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["int8", "text", "timestamptz", "bytea", "bytea"])
            for link in links:
                copy.write_row(
                    (
                        link.position,
                        link.tenant_id,
                        link.recorded_at,
                        link.previous_hash,
                        link.hash,
                    )
                )
                self.heads[link.tenant_id] = link.hash


def _check(store: LibraryEventStore, samples: list[Any]) -> None:
    """The rows hold what the mapper made, and decode to the same events."""
    for event, written in samples:
        rows = store.app.recorder.select_events(
            event.originator_id,
            gt=event.originator_version - 1,
            lte=event.originator_version,
        )
        assert len(rows) == 1, f"no stored row for {event}"
        row = rows[0]
        assert (row.topic, bytes(row.state)) == (written.topic, written.state)
        decoded = store.decode(row)
        assert type(decoded) is type(event)
        assert decoded.__dict__.keys() == event.__dict__.keys()


def _check_chain(settings: Settings, samples: list[Any]) -> None:
    """The newest stretch of a sampled event's tenant verifies as the log
    watcher verifies it (links, canonical form, payload bytes)."""
    if not samples:
        return
    tenant = samples[-1][0].meta.tenant_id
    database = Database.from_settings(settings)
    try:
        with database.connection() as conn:
            row = conn.execute(
                "SELECT max(position) FROM event_chain WHERE tenant_id = %s", (tenant,)
            ).fetchone()
        start = max(1, (row[0] if row and row[0] else 1) - 5_000)
        report = verify_tenant(database, tenant, start)
    finally:
        database.close()
    assert report.ok, report.text()


def raw_read(settings: Settings) -> Timing:
    """Every row, every column, through a server-side cursor; no decoding."""
    started = time.perf_counter()
    count = 0
    with (
        psycopg.connect(str(settings.database_url)) as conn,
        conn.cursor(name="raw") as cursor,
    ):
        cursor.itersize = 5_000
        cursor.execute(
            f"SELECT originator_id, originator_version, topic, state,"
            f" notification_id FROM {EVENTS_TABLE} ORDER BY notification_id"
        )
        for _ in cursor:
            count += 1
    return Timing("raw read (psycopg, server-side cursor)", count, _since(started))


def decode_only(settings: Settings) -> Timing:
    """What the rebuild does per event before folding: read, decode, envelope."""
    container = bootstrap(settings)
    try:
        rebuilder = container.rebuilder(ask_kafka=False)
        started = time.perf_counter()
        count = sum(1 for _ in rebuilder.events(0))
    finally:
        container.close()
    return Timing("read + decode + envelope, no fold", count, _since(started))


def rebuild_all(settings: Settings, events: int) -> tuple[list[Timing], list[Timing]]:
    """Every read model rebuilt through the real Rebuilder: in one pass
    (:meth:`Rebuilder.rebuild_all`, as ``rebuild --all`` does it; then the
    same in one process, the baseline of its split over two), then one at a
    time (:meth:`rebuild`)."""
    container = bootstrap(settings)
    try:
        rebuilder = container.rebuilder(ask_kafka=False)
        together = []
        for name, each in (
            ("one pass", rebuilder),
            (
                "one pass in one process",
                container.rebuilder(ask_kafka=False, split=False),
            ),
        ):
            started = time.perf_counter()
            each.rebuild_all(READ_MODELS)
            together.append(
                Timing(
                    f"rebuild of all {len(READ_MODELS)} read models, {name}",
                    events,
                    _since(started),
                )
            )
        # Issue 14's baseline: the same pass without opening personal fields
        # (no key looked up, nothing decrypted; tokens reach the read models).
        with mock.patch.object(rebuild_module, "personal_view", _left_sealed):
            started = time.perf_counter()
            rebuilder.rebuild_all(READ_MODELS)
            together.append(
                Timing(
                    f"rebuild of all {len(READ_MODELS)} read models, one pass,"
                    " personal fields left sealed (baseline of opening them)",
                    events,
                    _since(started),
                )
            )
        rebuilder.rebuild_all(READ_MODELS)  # read models as they should be
        apart = []
        for projection in READ_MODELS:
            started = time.perf_counter()
            rebuilder.rebuild(projection)
            apart.append(
                Timing(f"rebuild {projection.name} alone", events, _since(started))
            )
    finally:
        container.close()
    return together, apart


def _left_sealed(envelope: Any, _cipher: Any, **_reveal: bool) -> Any:
    return envelope


def run(settings: Settings, events: int) -> Report:
    """Fill the store, then time the rebuild beside its baselines."""
    load = os.getloadavg()
    stored, by_type, load_seconds = fill(settings, events, feed=False)
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {EVENTS_TABLE}")
        size = conn.execute(
            "SELECT pg_total_relation_size(%s)", (EVENTS_TABLE,)
        ).fetchone()
    table_mb = (size[0] if size else 0) / 2**20
    raw_read(settings)  # warm the cache: every timing then reads from memory
    timings = [raw_read(settings), decode_only(settings)]
    together, apart = rebuild_all(settings, stored)
    timings += together
    return Report(
        stored, by_type, load_seconds, table_mb, timings, apart, (load, os.getloadavg())
    )


def _since(started: float) -> float:
    return time.perf_counter() - started
