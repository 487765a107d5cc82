"""The relay: store → Kafka, at least once, in order, CloudEvents envelope."""

from __future__ import annotations

import json
import logging
import socket
import threading

import pytest

from commands.context import CommandContext
from commands.organizations import OrganizationService, RegisterOrganization
from domain.principal import Principal, Role
from infra.errors import DependencyUnavailableError
from infra.streaming import kafka
from infra.streaming.relay import Relay
from tests.kafka_helpers import consume_until, headers, new_topic

ADMIN = Principal("tenant-relay", "alice", frozenset({Role.TENANT_ADMIN}))


def register(container, name: str) -> tuple[str, int]:
    service = OrganizationService(container.event_store)
    accepted = service.register_organization(
        CommandContext(ADMIN, f"req-{name}"), RegisterOrganization(name, "SE")
    )
    return str(accepted.id), accepted.position


def drain(relay: Relay) -> None:
    while relay.step() is not None:
        pass


def positions_of(records, subjects: set[str]) -> list[int]:
    return [
        int(headers(r)["ce_position"])
        for r in records
        if headers(r)["ce_subject"] in subjects
    ]


def test_events_are_published_keyed_by_aggregate_with_cloudevents_headers(
    container, migrated, make_relay
):
    topic = new_topic(migrated)
    subject, position = register(container, "Relay Ltd")
    relay = make_relay(topic)
    drain(relay)

    assert relay.position() >= position
    records = consume_until(
        migrated, topic, lambda rs: subject in {headers(r)["ce_subject"] for r in rs}
    )
    [record] = [r for r in records if headers(r)["ce_subject"] == subject]
    h = headers(record)
    assert record.key == subject.encode()
    assert h["ce_specversion"] == "1.0"
    assert h["ce_type"] == "assurehub.organization.registered.v2"
    assert h["ce_tenantid"] == "tenant-relay"
    assert h["ce_position"] == str(position)
    assert h["ce_aggregateversion"] == "1"
    assert h["ce_correlationid"] == "req-Relay Ltd"
    assert h["content-type"] == "application/json"
    assert json.loads(record.value) == {
        "name": "Relay Ltd",
        "country": "SE",
        "registration_number": None,
    }


def test_a_relay_killed_between_publish_and_save_loses_nothing(
    container, migrated, make_relay
):
    topic = new_topic(migrated)
    subjects = {register(container, f"Crash {i}")[0] for i in range(5)}
    crashed = make_relay(topic)
    drain(crashed)
    before = crashed.position()
    more = {register(container, f"Crash late {i}")[0] for i in range(3)}
    batch = container.event_store.read_after(before, 100)
    crashed.publish(batch)  # acknowledged by Kafka, but never saved: the crash
    assert crashed.position() == before

    restarted = make_relay(topic)
    drain(restarted)

    wanted = subjects | more
    records = consume_until(
        migrated,
        topic,
        lambda rs: (
            len(positions_of(rs, subjects)) >= len(subjects)
            and len(positions_of(rs, more)) >= 2 * len(more)
        ),
    )
    got = positions_of(records, wanted)
    assert set(got) >= {n.id for n in batch if str(n.originator_id) in wanted}
    assert len(got) == len(subjects) + 2 * len(more)  # duplicates, no gaps


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def test_with_kafka_down_commands_are_stored_and_published_once_it_is_back(
    container, migrated, make_relay
):
    topic = new_topic(migrated)
    down = migrated.model_copy(update={"kafka_bootstrap_servers": closed_port()})
    relay_down = make_relay(
        relay_factory=lambda: Relay(
            down,
            container.event_store,
            container.database,
            lambda: kafka.producer(down),
            topic,
        )
    )
    subject, position = register(container, "Offline Ltd")

    with pytest.raises(DependencyUnavailableError):
        relay_down.step()
    assert relay_down.position() < position

    relay_back = make_relay(topic)
    drain(relay_back)
    records = consume_until(
        migrated, topic, lambda rs: subject in {headers(r)["ce_subject"] for r in rs}
    )
    assert positions_of(records, {subject}) == [position]


def test_the_running_relay_waits_out_a_kafka_outage_and_then_publishes(
    container, migrated, caplog
):
    topic = new_topic(migrated)
    subject, position = register(container, "Outage Ltd")
    attempts = []

    def flaky_producer():
        attempts.append(1)
        if len(attempts) <= 2:  # the broker is down for the first two tries
            return kafka.producer(
                migrated.model_copy(update={"kafka_bootstrap_servers": closed_port()})
            )
        return kafka.producer(migrated)

    relay = Relay(
        migrated, container.event_store, container.database, flaky_producer, topic
    )
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, args=(stop,))
    with caplog.at_level(logging.WARNING, logger="infra.streaming.relay"):
        worker.start()
        try:
            records = consume_until(
                migrated,
                topic,
                lambda rs: subject in {headers(r)["ce_subject"] for r in rs},
                timeout=60,
            )
        finally:
            stop.set()
            worker.join(timeout=30)
    assert not worker.is_alive()
    assert positions_of(records, {subject}) == [position]
    waits = [
        r
        for r in caplog.records
        if r.getMessage() == "relay waiting for its dependencies"
    ]
    assert len(waits) >= 2
    assert {r.dependency for r in waits} == {"kafka"}


def test_of_two_relays_one_publishes_and_the_other_takes_over_when_it_stops(
    container, migrated, make_relay
):
    topic = new_topic(migrated)
    first = register(container, "Leader Ltd")
    relays = [make_relay(topic), make_relay(topic)]
    stops = [threading.Event(), threading.Event()]
    threads = [
        threading.Thread(target=r.run, args=(s,), daemon=True)
        for r, s in zip(relays, stops, strict=True)
    ]
    try:
        for t in threads:
            t.start()
        records = consume_until(
            migrated, topic, lambda rs: first[1] in positions_of(rs, {first[0]})
        )
        assert sum(r.leading for r in relays) == 1
        leader = next(i for i, r in enumerate(relays) if r.leading)
        stops[leader].set()  # its session ends: the lock is released
        threads[leader].join(timeout=30)
        second = register(container, "Successor Ltd")
        records = consume_until(
            migrated,
            topic,
            lambda rs: second[1] in positions_of(rs, {second[0]}),
            timeout=30,
        )
        assert relays[1 - leader].leading
        every = [int(headers(r)["ce_position"]) for r in records]
        assert len(every) == len(set(every))  # no position published twice
    finally:
        for s in stops:
            s.set()
        for t in threads:
            t.join(timeout=30)
