"""Group commit in Postgres: commands gathered into one locked transaction
each get their own outcome, and the hash chain stays whole."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from commands.errors import ClaimTakenError, ConcurrentWriteError
from commands.ports import Claim, SideWrites
from domain.events import EventMeta
from domain.organization import Organization
from infra.bootstrap import Container
from infra.eventlog.watch import verify_tenant
from infra.eventstore.appends import DRAW, Append, queue_append
from infra.eventstore.chain import linkable
from infra.eventstore.recorders import FailFastRecorder
from infra.eventstore.store import EVENTS_TABLE


@contextmanager
def one_batch(container: Container) -> Iterator[tuple[Callable[..., None], list[int]]]:
    """Appends started inside the block wait behind a held turn and are
    written together once all have queued; yields ``start(work)`` and the
    sizes of the batches that the recorder then wrote (apart: savepoints)."""
    recorder = container.event_store.app.recorder
    assert isinstance(recorder, FailFastRecorder)
    group: Any = recorder._group
    sizes: list[int] = []
    apart = recorder._write_apart

    def spy(batch: Sequence[Any]) -> None:
        sizes.append(len(batch))
        apart(batch)

    recorder._write_apart = spy  # type: ignore[method-assign]
    threads: list[threading.Thread] = []

    def start(work: Callable[[], None]) -> None:
        threads.append(threading.Thread(target=work))
        threads[-1].start()

    group._turn.acquire()
    try:
        yield start, sizes
        deadline = time.monotonic() + 10
        while len(group._queue) < len(threads):
            assert time.monotonic() < deadline, "the appends did not queue"
            time.sleep(0.01)
    finally:
        group._turn.release()
        for t in threads:
            t.join(timeout=30)
        del recorder._write_apart


def test_a_conflict_in_a_batch_fails_only_its_command(container):
    store = container.event_store
    tenant = f"tenant-group-{uuid.uuid4().hex[:8]}"
    meta = EventMeta(tenant, "alice", "req-group", "req-group")
    taken = Claim(tenant, "scope", "taken")
    store.append(
        Organization.register(meta, "Holder", "NL"), side=SideWrites(claims=(taken,))
    )
    renamed = Organization.register(meta, "Renamed", "NL")
    store.append(renamed)
    stale = store.load(Organization, renamed.id)
    assert stale is not None
    renamed.rename(meta, "Renamed first")
    store.append(renamed)
    stale.rename(meta, "Renamed too late")
    goods = [Organization.register(meta, f"Good {i}", "NL") for i in range(3)]
    claimant = Organization.register(meta, "Claimant", "NL")
    pair = [Organization.register(meta, f"Pair {i}", "NL") for i in range(2)]
    outcomes: dict[str, object] = {}

    def append(name: str, org: Organization, side: SideWrites | None = None) -> None:
        try:
            outcomes[name] = store.append(org, side=side)
        except (ConcurrentWriteError, ClaimTakenError) as e:
            outcomes[name] = type(e)

    both = SideWrites(claims=(Claim(tenant, "scope", "pair"),))
    with one_batch(container) as (start, sizes):
        for i, good in enumerate(goods):
            start(lambda good=good, i=i: append(f"good{i}", good))
        start(lambda: append("stale", stale))
        start(lambda: append("claimant", claimant, SideWrites(claims=(taken,))))
        for i, org in enumerate(pair):
            start(lambda org=org, i=i: append(f"pair{i}", org, both))

    assert sizes == [7], "the seven appends were written apart in one batch"
    assert outcomes["stale"] is ConcurrentWriteError
    assert outcomes["claimant"] is ClaimTakenError
    paired = [outcomes[f"pair{i}"] for i in range(2)]
    winners = [
        org for org, got in zip(pair, paired, strict=True) if isinstance(got, int)
    ]
    assert len(winners) == 1, "of two commands claiming one value, one wins"
    assert ClaimTakenError in paired
    for org in [*goods, *winners]:
        assert store.load(Organization, org.id) is not None
    assert store.load(Organization, claimant.id) is None
    loaded = store.load(Organization, renamed.id)
    assert loaded is not None
    assert (loaded.name, loaded.version) == ("Renamed first", 2)
    report = verify_tenant(container.database, tenant)
    assert report.ok, report.text()
    assert report.events == 2 + 1 + len(goods) + 1


def test_a_batch_without_conflicts_commits_together_and_chains(container):
    store = container.event_store
    tenant = f"tenant-group-{uuid.uuid4().hex[:8]}"
    meta = EventMeta(tenant, "alice", "req-group", "req-group")
    orgs = [Organization.register(meta, f"Org {i}", "NL") for i in range(6)]
    for org in orgs:
        org.rename(meta, f"{org.name} renamed")  # two events per command
    positions: list[int] = []
    with one_batch(container) as (start, sizes):
        for org in orgs:
            start(lambda org=org: positions.append(store.append(org)))

    assert sizes == [], "nothing failed: no savepoints were needed"
    assert len(positions) == len(set(positions)) == len(orgs)
    stored = store.read_after(min(positions) - 2, 100)
    assert {n.originator_id for n in stored} == {o.id for o in orgs}
    for org in orgs:
        versions = [n.originator_version for n in stored if n.originator_id == org.id]
        assert versions == [1, 2], "an aggregate's events in version order"
    report = verify_tenant(container.database, tenant)
    assert report.ok, report.text()
    assert report.events == 2 * len(orgs)


def test_a_prepared_append_skipped_behind_a_failure_is_prepared_again(container):
    """Positions and appends are prepared statements queued in a pipeline:
    when a batch fails before them, Postgres skips their preparation, and the
    next batch of the same shape on the same connection prepares them again
    instead of executing a statement that does not exist."""
    recorder = container.event_store.app.recorder
    assert isinstance(recorder, FailFastRecorder)
    tenant = f"tenant-group-{uuid.uuid4().hex[:8]}"
    meta = EventMeta(tenant, "alice", "req-group", "req-group")

    def prepared_append() -> Append:
        org = Organization.register(meta, "Prepared", "NL")
        stored = [recorder_mapper.to_stored_event(e) for e in org.collect_events()]
        return Append(stored, linkables=[linkable(e) for e in stored])

    recorder_mapper = container.event_store.app.mapper
    with psycopg.connect(str(container.settings.database_url), autocommit=True) as conn:
        for attempt in ("skipped", "prepared", "reused"):
            append = prepared_append()
            try:
                with conn.pipeline() as pipeline, conn.transaction():
                    curs = conn.cursor(row_factory=dict_row)
                    if attempt == "skipped":
                        curs.execute("SELECT 1 / 0", prepare=False)
                    curs.execute(DRAW, (EVENTS_TABLE, 1, [tenant]), prepare=True)
                    pipeline.sync()
                    row = curs.fetchone()
                    assert row is not None
                    heads = dict(
                        zip(
                            row["tenants"] or (),
                            map(bytes, row["hashes"] or ()),
                            strict=True,
                        )
                    )
                    queue_append(curs, recorder._insert, append, row["ids"], heads)
            except psycopg.errors.DivisionByZero:
                assert attempt == "skipped"
                continue
            assert attempt != "skipped"
    report = verify_tenant(container.database, tenant)
    assert report.ok, report.text()
    assert report.events == 2
