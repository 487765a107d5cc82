"""Records written straight to the topic that a projection cannot apply are
parked with their own bytes and their reason while the others go on; a record
that cannot even be parked halts the projection visibly, without a loop."""

from __future__ import annotations

import argparse
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from psycopg import sql

from infra.health import HealthCheck
from infra.postgres import projection_halts
from infra.postgres.dead_letters import Origin
from infra.postgres.projection_schemas import ensure_schema
from infra.postgres.rows import qualified
from infra.projection.halting import ProjectionStoppedError
from infra.projection.host import ProjectorHost
from infra.projection.replay import replay
from infra.projection.runner import ProjectionRunner
from infra.projection.status import projection_status
from infra.streaming import cloudevents, kafka
from processors.cli import format_status, projections_command
from projections.envelope import EventEnvelope
from projections.templates import DRAFTED, STANDARD_RETIRED, TemplateProjection
from tests.kafka_helpers import new_large_topic, new_topic, produce

FIVE_MB = 5 * 1_048_576


class Templates(TemplateProjection):
    """The real templates projection, under a name (and schema) of its own."""

    def __init__(self) -> None:
        self.name = f"tpl_{uuid.uuid4().hex[:8]}"


def event(subject: UUID, position: int, kind: str = DRAFTED, **data) -> EventEnvelope:
    return EventEnvelope(
        id=str(uuid4()),
        type=kind,
        source="/assurehub",
        subject=str(subject),
        time=datetime(2026, 1, 1, tzinfo=UTC),
        tenant_id="tenant-poison",
        position=position,
        aggregate_version=1,
        actor_id="alice",
        correlation_id=f"req-{position}",
        causation_id=f"req-{position}",
        data=data,
    )


def drafted(subject: UUID, position: int, title: str) -> EventEnvelope:
    return event(subject, position, standard_name="ISO 9001", edition="2015",
                 title=title)  # fmt: skip


def runner_for(container, settings, projection, topic, **kwargs) -> ProjectionRunner:
    return ProjectionRunner(
        projection,
        container.database,
        lambda g: kafka.consumer(settings, g, topic),
        topic,
        group=f"g-{uuid.uuid4().hex[:8]}",
        **kwargs,
    )


@pytest.fixture
def make_projection(container, migrated):
    def make() -> Templates:
        projection = Templates()
        with container.database.connection() as conn:
            ensure_schema(conn, projection, store_is_empty=True)
        return projection

    return make


def titles(container, projection) -> dict[str, str]:
    query = "SELECT id, title FROM {}"
    with container.database.connection() as conn:
        rows = conn.execute(
            sql.SQL(query).format(qualified(projection.name, "standard_templates"))
        ).fetchall()
    return {str(r[0]): r[1] for r in rows}


def letters(container, projection) -> dict[int | None, dict]:
    """Parked letters by position (None: unreadable), with their columns."""
    with container.database.connection() as conn:
        rows = conn.execute(
            "SELECT position, event_type, subject, tenant_id, error, attempts,"
            " record_key, record_value, header_names, header_values"
            " FROM projection_dead_letters WHERE projection = %s AND state = 'parked'",
            (projection.name,),
        ).fetchall()
    return {
        r[0]: {
            "type": r[1],
            "subject": r[2],
            "tenant": r[3],
            "error": r[4],
            "attempts": r[5],
            "record": (r[6], r[7], list(zip(r[8], r[9], strict=True))),
        }
        for r in rows
    }


def as_stored(record) -> tuple:
    key, value, headers = record
    return key, value, [(k.encode(), v) for k, v in headers]


def poison_records(good: UUID, later: UUID, bad: dict[str, UUID]) -> dict[str, tuple]:
    """Each kind of poison for its own aggregate, between two good events."""
    no_tenant = cloudevents.encode(drafted(bad["no_tenant"], 6, "No tenant header"))
    return {
        "good": cloudevents.encode(drafted(good, 1, "Quality manual")),
        "nul": cloudevents.encode(drafted(bad["nul"], 2, "Bad\x00title")),
        "not_json": (
            str(bad["not_json"]).encode(),
            b'{"title": "unterminated',
            cloudevents.encode(drafted(bad["not_json"], 3, "x"))[2],
        ),
        "unknown": cloudevents.encode(
            event(bad["unknown"], 4, "assurehub.standard_template.teleported.v1")
        ),
        "five_mb": cloudevents.encode(
            drafted(bad["five_mb"], 5, secrets.token_hex(FIVE_MB // 2))
        ),
        "no_tenant": (
            no_tenant[0],
            no_tenant[1],
            [(k, v) for k, v in no_tenant[2] if k != "ce_tenantid"],
        ),
        "later": cloudevents.encode(drafted(later, 7, "Environment manual")),
        "nul_again": cloudevents.encode(
            event(bad["nul"], 8, STANDARD_RETIRED, retired_on="2026-01-02")
        ),
    }


def test_each_poison_record_is_parked_with_its_bytes_and_reason_while_others_apply(
    container, migrated, make_projection
):
    projection = make_projection()
    topic = new_large_topic(migrated, 8 * 1_048_576)
    good, later = uuid4(), uuid4()
    bad = {k: uuid4() for k in ("nul", "not_json", "unknown", "five_mb", "no_tenant")}
    records = poison_records(good, later, bad)
    assert len(records["five_mb"][1]) > FIVE_MB
    produce(migrated, topic, list(records.values()), max_request_size=8 * 1_048_576)

    runner = runner_for(container, migrated, projection, topic)
    deadline = time.monotonic() + 90
    try:
        while (
            len(letters(container, projection)) < 6
            or len(titles(container, projection)) < 2
        ):
            assert time.monotonic() < deadline, letters(container, projection).keys()
            runner.step()
        for _ in range(5):  # nothing comes again
            assert runner.step().parked == 0
    finally:
        runner.close()

    # The other aggregates' events, before and after the poison, are applied.
    assert titles(container, projection) == {
        str(good): "Quality manual",
        str(later): "Environment manual",
    }
    parked = letters(container, projection)
    assert sorted(parked, key=lambda p: p or 0) == [2, 3, 4, 5, 6, 8]
    expected = {
        2: ("nul", "DataError: PostgreSQL text fields cannot contain NUL"),
        3: ("not_json", "MalformedEventError: the value is not JSON"),
        4: ("unknown", "unknown event type 'assurehub.standard_template.teleported"),
        5: ("five_mb", "ProgramLimitExceeded: index row"),
        6: ("no_tenant", "MalformedEventError: the header ce_tenantid is missing"),
        8: ("nul_again", f"waits for an earlier parked event of {bad['nul']}"),
    }
    for position, (kind, reason) in expected.items():
        letter = parked[position]
        assert letter["error"].startswith(reason), (kind, letter["error"])
        # The record's own bytes, not a re-encoded copy.
        assert letter["record"] == as_stored(records[kind]), kind
        assert letter["attempts"] == 1, kind
    assert parked[6]["tenant"] is None
    assert parked[4]["type"] == "assurehub.standard_template.teleported.v1"
    assert parked[8]["subject"] == str(bad["nul"])

    [status] = projection_status(
        container.database, container.event_store, topic, (projection,)
    )
    assert (status.parked, status.halt, status.state) == (6, None, "ok")

    # A replay reads each record again: still poison, each keeps its bytes.
    result = replay(container.database, projection)
    assert (result.applied, len(result.failed), len(result.waiting)) == ([], 5, 1)
    again = letters(container, projection)
    assert {p: again[p]["record"] for p in again} == {
        p: parked[p]["record"] for p in parked
    }
    assert again[2]["attempts"] == 2


REFUSE = """
CREATE SEQUENCE {attempts};
CREATE FUNCTION {refuse}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('{attempts}');
    RAISE EXCEPTION 'dead letters of % are refused', NEW.projection;
END $$;
CREATE TRIGGER {refuse} BEFORE INSERT OR UPDATE ON projection_dead_letters
    FOR EACH ROW WHEN (NEW.projection = '{name}') EXECUTE FUNCTION {refuse}();
"""


@pytest.fixture
def unparkable(container, make_projection):
    """A projection whose dead letters Postgres refuses (a trigger raises and
    counts each attempt in a sequence, which no rollback undoes)."""
    projection = make_projection()
    names = {
        "attempts": f"attempts_{projection.name}",
        "refuse": f"refuse_{projection.name}",
        "name": projection.name,
    }
    with container.database.connection() as conn:
        conn.execute(REFUSE.format(**names).encode())
    yield projection, lambda: attempts(container, names["attempts"])
    with container.database.connection() as conn:
        drop_refusal(conn, names)
        projection_halts.clear(conn, projection.name)


def drop_refusal(conn, names) -> None:
    conn.execute(
        sql.SQL("DROP TRIGGER IF EXISTS {} ON projection_dead_letters").format(
            sql.Identifier(names["refuse"])
        )
    )
    conn.execute(
        sql.SQL("DROP FUNCTION IF EXISTS {}").format(sql.Identifier(names["refuse"]))
    )
    conn.execute(
        sql.SQL("DROP SEQUENCE IF EXISTS {}").format(sql.Identifier(names["attempts"]))
    )


def attempts(container, sequence: str) -> int:
    with container.database.connection() as conn:
        row = conn.execute(
            sql.SQL("SELECT last_value, is_called FROM {}").format(
                sql.Identifier(sequence)
            )
        ).fetchone()
    return int(row[0]) if row[1] else 0


def wait_for(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_record_that_cannot_be_parked_halts_visibly_and_resumes_on_request(
    container, migrated, make_projection, unparkable, capsys
):
    halting, attempts_so_far = unparkable
    other = make_projection()
    topic = new_topic(migrated)
    first, poison, last = uuid4(), uuid4(), uuid4()
    produce(
        migrated,
        topic,
        [
            cloudevents.encode(drafted(first, 1, "First")),
            cloudevents.encode(drafted(poison, 2, "Nul\x00here")),
            cloudevents.encode(drafted(last, 3, "Last")),
        ],
    )
    stop, beats = threading.Event(), []
    runners = [
        runner_for(container, migrated, halting, topic, halt_poll_seconds=0.2),
        runner_for(container, migrated, other, topic),
    ]
    threads = [
        threading.Thread(target=r.run, args=(stop, lambda n=r: beats.append(n)))
        for r in runners
    ]
    for t in threads:
        t.start()
    try:
        with container.database.connection() as conn:
            wait_for(lambda: projection_halts.halt_of(conn, halting.name), "a halt")
        # The other projection goes on: it parks the poison, applies the rest.
        wait_for(lambda: len(titles(container, other)) == 2, "the other projection")
        halted_beats = sum(1 for r in beats if r is runners[0])
        time.sleep(3)  # a retry loop would have tried again 3 or 4 times by now

        # One attempt, no loop; the runner is alive (beating) but applies nothing.
        assert attempts_so_far() == 1
        assert sum(1 for r in beats if r is runners[0]) > halted_beats + 5
        assert str(poison) not in titles(container, halting)
        statuses = projection_status(
            container.database, container.event_store, topic, (halting, other)
        )
        check_halt_is_visible(container, migrated, halting, statuses)
        assert 2 not in statuses[0].positions.values()
        assert (statuses[1].state, statuses[1].parked) == ("ok", 1)

        # The operator fixes the cause and resumes: the record comes again.
        with container.database.connection() as conn:
            conn.execute(
                sql.SQL("DROP TRIGGER {} ON projection_dead_letters").format(
                    sql.Identifier(f"refuse_{halting.name}")
                )
            )
        args = argparse.Namespace(verb="resume", name=halting.name)
        assert projections_command(migrated, args) == 0
        assert "halt cleared" in capsys.readouterr().out
        wait_for(lambda: len(titles(container, halting)) == 2, "the resumed runner")
        assert len(letters(container, halting)) == 1
        [status] = projection_status(
            container.database, container.event_store, topic, (halting,)
        )
        assert (status.state, status.halt, status.parked) == ("ok", None, 1)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)


def check_halt_is_visible(container, settings, halting, statuses) -> None:
    """Status (text and JSON) and readiness name the projection and why."""
    status = statuses[0]
    assert status.state == "halted"
    assert status.halt is not None
    for part in (
        "could be neither applied nor parked",
        f"dead letters of {halting.name} are refused",
        "DataError: PostgreSQL text fields cannot contain NUL",
    ):
        assert part in status.halt
    assert status.as_json()["state"] == "halted"
    assert status.as_json()["halt"] == status.halt
    text = format_status(statuses)
    assert f"{halting.name}" in text
    assert "HALTED" in text
    assert f"halted: {status.halt}" in text
    readiness = HealthCheck(settings, container.database).readiness()
    assert readiness.ready
    assert readiness.status == "degraded"
    assert readiness.checks["projections"] == "halted"
    assert readiness.halted[halting.name] == status.halt


def step_for(runner, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        runner.step()


def test_a_halted_projection_consumes_nothing_after_a_restart(
    container, migrated, make_projection
):
    projection = make_projection()
    topic = new_topic(migrated)
    produce(migrated, topic, [cloudevents.encode(drafted(uuid4(), 1, "Fine"))])
    with container.database.connection() as conn:
        projection_halts.halt(
            conn,
            projection_halts.Halt(
                projection.name, "halted by the test", None, Origin()
            ),
        )
    runner = runner_for(container, migrated, projection, topic)
    try:
        with pytest.raises(ProjectionStoppedError, match="halted by the test"):
            step_for(runner, 60)
        assert titles(container, projection) == {}
    finally:
        runner.close()
        with container.database.connection() as conn:
            projection_halts.clear(conn, projection.name)


class CountingConsumers:
    """Consumer factory that counts consumers made and records delivered."""

    def __init__(self, settings, topic) -> None:
        self.settings, self.topic = settings, topic
        self.made = 0
        self.delivered: list[tuple[int, int]] = []

    def __call__(self, group: str):
        consumer = kafka.consumer(self.settings, group, self.topic)
        self.made += 1
        poll = consumer.poll

        def counted(**kwargs):
            batch = poll(**kwargs)
            for records in batch.values():
                self.delivered.extend((r.partition, r.offset) for r in records)
            return batch

        consumer.poll = counted
        return consumer


def test_one_consumer_feeds_every_projection_and_a_halted_one_catches_up_alone(
    container, migrated, make_projection, unparkable, capsys
):
    halting, attempts_so_far = unparkable
    other = make_projection()
    topic = new_topic(migrated)
    first, poison, last = uuid4(), uuid4(), uuid4()
    produce(
        migrated,
        topic,
        [
            cloudevents.encode(drafted(first, 1, "First")),
            cloudevents.encode(drafted(poison, 2, "Nul\x00here")),
            cloudevents.encode(drafted(last, 3, "Last")),
        ],
    )
    consumers, readers = CountingConsumers(migrated, topic), []

    def reader(client_id: str):
        readers.append(client_id)
        return kafka.reader(migrated, client_id)

    host = ProjectorHost(
        [runner_for(container, migrated, p, topic) for p in (halting, other)],
        container.database,
        consumers,
        reader,
        topic,
        group=f"g-{uuid.uuid4().hex[:8]}",
        halt_poll_seconds=0.2,
    )
    stop = threading.Event()
    thread = threading.Thread(target=host.run, args=(stop,))
    thread.start()
    try:
        with container.database.connection() as conn:
            wait_for(lambda: projection_halts.halt_of(conn, halting.name), "a halt")
        wait_for(lambda: len(titles(container, other)) == 2, "the other projection")
        # The halted projection does not hold the other back.
        more = [uuid4(), uuid4()]
        produce(
            migrated,
            topic,
            [cloudevents.encode(drafted(s, 4 + i, f"More {i}")) for i, s in
             enumerate(more)],
        )  # fmt: skip
        wait_for(lambda: len(titles(container, other)) == 4, "the other, later")
        assert not {str(poison), *map(str, more)} & set(titles(container, halting))
        assert attempts_so_far() == 1
        assert host.lane(halting.name).state == "waiting"

        with container.database.connection() as conn:
            conn.execute(
                sql.SQL("DROP TRIGGER {} ON projection_dead_letters").format(
                    sql.Identifier(f"refuse_{halting.name}")
                )
            )
        args = argparse.Namespace(verb="resume", name=halting.name)
        assert projections_command(migrated, args) == 0
        # It catches up alone, from its own tracking, with a reader of its own.
        wait_for(lambda: len(titles(container, halting)) == 4, "the catch-up")
        wait_for(lambda: host.lane(halting.name).state == "live", "live again")
        assert titles(container, halting) == titles(container, other)
        assert len(letters(container, halting)) == len(letters(container, other)) == 1
        assert readers == [f"{host.group_id}.{halting.name}.catch-up"]
        # One shared consumer for both; each record fetched by it once.
        assert consumers.made == 1
        assert sorted(consumers.delivered) == sorted(set(consumers.delivered))
        assert len(consumers.delivered) == 5
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def records(positions: range) -> list[tuple[bytes | None, bytes | None, list]]:
    return [cloudevents.encode(drafted(uuid4(), n, f"T{n}")) for n in positions]


def host_for(container, settings, projection, topic, group) -> ProjectorHost:
    return ProjectorHost(
        [runner_for(container, settings, projection, topic)],
        container.database,
        lambda g: kafka.consumer(settings, g, topic),
        lambda client: kafka.reader(settings, client),
        topic,
        group=group,
    )


def test_two_projector_processes_sharing_partitions_project_what_one_does(
    container, migrated, make_projection
):
    shared, alone = make_projection(), make_projection()
    topic = new_topic(migrated)
    group = f"g-{uuid.uuid4().hex[:8]}"
    produce(migrated, topic, records(range(1, 41)))
    hosts = [
        host_for(container, migrated, shared, topic, group),
        host_for(container, migrated, shared, topic, group),
        host_for(container, migrated, alone, topic, f"g-{uuid.uuid4().hex[:8]}"),
    ]
    stops = [threading.Event() for _ in hosts]
    threads = [
        threading.Thread(target=h.run, args=(s,))
        for h, s in zip(hosts, stops, strict=True)
    ]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(titles(container, shared)) == 40, "two projectors")
        wait_for(
            lambda: hosts[0].assigned and hosts[1].assigned, "partitions shared", 60
        )
        # One of the two stops: the other takes its partitions over.
        stops[0].set()
        threads[0].join(timeout=30)
        produce(migrated, topic, records(range(41, 61)))
        wait_for(lambda: len(titles(container, shared)) == 60, "the one left", 90)
        assert hosts[1].assigned == {0, 1, 2}
        wait_for(lambda: len(titles(container, alone)) == 60, "one projector")
        assert titles(container, shared) == titles(container, alone)
        assert letters(container, shared) == letters(container, alone) == {}
    finally:
        for s in stops:
            s.set()
        for t in threads:
            t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
