"""A batch applied in bulk (its rows prefetched in one query per table, held
and written once) leaves the same read-model rows and the same parked letters
as its events applied one by one, poison in the middle of it included."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import UUID, uuid4

import pytest
from psycopg import sql

from infra.postgres.projection_schemas import ensure_schema
from infra.postgres.rows import PostgresRows, qualified
from infra.projection import parking
from infra.projection.runner import ProjectionRunner
from infra.streaming import cloudevents
from projections.envelope import EventEnvelope
from projections.organizations import (
    ARCHIVED,
    REGISTERED,
    RENAMED,
    SITE_ADDED,
    SITE_CHANGED,
    OrganizationProjection,
)

TOPIC = "assurehub.test.prefetch"


class Organizations(OrganizationProjection):
    """The real organizations projection, under a name (and schema) of its own."""

    def __init__(self) -> None:
        self.name = f"org_{uuid.uuid4().hex[:8]}"


def event(subject: UUID, position: int, kind: str, **data) -> EventEnvelope:
    return EventEnvelope(
        id=str(uuid4()),
        type=kind,
        source="/assurehub",
        subject=str(subject),
        time=datetime(2026, 1, 1, tzinfo=UTC),
        tenant_id="tenant-prefetch",
        position=position,
        aggregate_version=position,
        actor_id="alice",
        correlation_id=f"req-{position}",
        causation_id=f"req-{position}",
        data=data,
    )


def registered(subject: UUID, position: int, name: str) -> EventEnvelope:
    return event(subject, position, REGISTERED, name=name, country="SE",
                 registration_number=f"556{position:07d}")  # fmt: skip


def site(subject: UUID, position: int, kind: str, site_id: UUID, name: str):
    return event(subject, position, kind, site_id=str(site_id), site_name=name,
                 address="Storgatan 1", country="SE")  # fmt: skip


def deliveries(records: list[tuple]) -> list[parking.Delivery]:
    return [
        parking.read(
            SimpleNamespace(
                key=key, value=value, headers=headers, partition=0, offset=offset
            ),
            TOPIC,
        )
        for offset, (key, value, headers) in enumerate(records)
    ]


def filler(first: int) -> list[tuple]:
    """More organizations than a batch looks its subjects' letters up one by
    one for (the lookup asks first whether the projection has any)."""
    return [
        cloudevents.encode(registered(uuid4(), p, f"Org {p}"))
        for p in range(first, first + 21)
    ]


def batches() -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Organizations registered; a batch on them with undecodable poison in
    the middle (it stays on the bulk path); one whose poison Postgres
    refuses (the batch falls back to savepoints), with an event of the
    aggregate parked in the batch before (it waits behind its poison)."""
    a, b, c, poisoned, refused = (uuid4() for _ in range(5))
    s1, s2 = uuid4(), uuid4()
    enc = cloudevents.encode
    first = [enc(registered(x, p, f"Org {p}")) for p, x in enumerate((a, b), 1)]
    garbled = enc(registered(poisoned, 6, "Garbled"))
    second = [
        enc(event(a, 3, RENAMED, name="Acme Renamed")),
        enc(site(b, 4, SITE_ADDED, s1, "North")),
        enc(registered(c, 5, "Org 5")),
        (garbled[0], b'{"name": "unterminated', garbled[2]),
        enc(event(poisoned, 7, RENAMED, name="Waits behind its poison")),
        enc(site(c, 8, SITE_ADDED, s2, "South")),
        enc(site(b, 9, SITE_CHANGED, s1, "North Changed")),
        enc(event(c, 10, RENAMED, name="Org 5 Renamed")),
        enc(event(a, 11, ARCHIVED)),
        *filler(12),
    ]
    third = [
        enc(registered(refused, 40, "Fine so far")),
        enc(event(refused, 41, RENAMED, name="Nul\x00name")),
        enc(event(b, 42, RENAMED, name="Beta Renamed")),
        enc(event(poisoned, 43, ARCHIVED)),
        enc(event(refused, 44, ARCHIVED)),
        *filler(45),
    ]
    return first, second, third


def read_model(container, projection) -> dict[str, list[tuple]]:
    with container.database.connection() as conn:
        return {
            table.name: sorted(
                conn.execute(
                    sql.SQL("SELECT * FROM {}").format(
                        qualified(projection.name, table.name)
                    )
                ).fetchall()
            )
            for table in projection.tables
        }


def parked(container, projection) -> list[tuple]:
    with container.database.connection() as conn:
        return conn.execute(
            "SELECT position, subject, state, error, record_value"
            " FROM projection_dead_letters WHERE projection = %s ORDER BY position",
            (projection.name,),
        ).fetchall()


@pytest.fixture
def runner(container, migrated):
    def make() -> ProjectionRunner:
        projection = Organizations()
        with container.database.connection() as conn:
            ensure_schema(conn, projection, store_is_empty=True)
        return ProjectionRunner(projection, container.database, lambda g: None, TOPIC)

    return make


def test_a_batch_in_bulk_gives_the_rows_and_letters_of_its_events_one_by_one(
    container, runner, monkeypatch
):
    bulk, single = runner(), runner()
    first, second, third = batches()
    records = first + second + third
    bulk.apply_deliveries(deliveries(records)[: len(first)])

    reads: list[tuple] = []
    get = PostgresRows.get

    def counted(self, table, key):
        reads.append(key)
        return get(self, table, key)

    monkeypatch.setattr(PostgresRows, "get", counted)
    result = bulk.apply_deliveries(deliveries(records)[len(first) : -len(third)])
    assert (result.applied, result.parked) == (28, 2)
    assert reads == []  # every row the batch read came with its prefetch
    monkeypatch.undo()
    result = bulk.apply_deliveries(deliveries(records)[-len(third) :])
    assert (result.applied, result.parked) == (23, 3)

    for delivery in deliveries(records):
        single.apply_deliveries([delivery])

    assert read_model(container, bulk.projection) == read_model(
        container, single.projection
    )
    rows = read_model(container, bulk.projection)
    assert len(rows["organizations"]) == 4 + 2 * 21
    assert len(rows["sites"]) == 2
    assert parked(container, bulk.projection) == parked(container, single.projection)
    assert [(p[0], p[2]) for p in parked(container, bulk.projection)] == [
        (6, "parked"),
        (7, "parked"),
        (41, "parked"),
        (43, "parked"),
        (44, "parked"),
    ]
