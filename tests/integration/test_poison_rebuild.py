"""A rebuild over a store holding an event Postgres text cannot hold parks it
(with the record the relay publishes for it) and completes; a letter parked
before the dead-letter table kept raw records is readable after it."""

from __future__ import annotations

import argparse
import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from domain.events import EventMeta
from domain.standard_template import StandardTemplate
from infra.eventstore.store import AssureHubApplication, postgres_env
from infra.migrations import migration_files
from infra.postgres import dead_letters
from infra.postgres.pool import Database
from infra.postgres.rows import qualified
from infra.projection import parking
from processors.cli import projections_command
from projections.envelope import EventEnvelope
from tests.scratch_database import scratch_container, scratch_database

META = EventMeta("tenant-rebuild-poison", "alice", "req-1", "req-1")


@pytest.fixture
def own_store(migrated):
    """A migrated database of its own: the poison never reaches the shared
    store, where the session's relay and projectors would meet it."""
    with scratch_container(migrated) as container:
        yield container


def append_with_nul_title(container) -> int:
    """Store a drafted template whose title holds U+0000, through the event
    store's recorder (no value object of today or tomorrow would accept it)."""
    template = StandardTemplate.draft(META, "ISO 14001", "2015", "Poison title")
    [drafted] = template.collect_events()
    app = container.event_store.app
    stored = app.mapper.to_stored_event(drafted)
    assert stored.state.count(b"Poison title") == 1
    state = stored.state.replace(b"Poison title", b"Poi\\u0000son title")
    app.recorder.insert_events([dataclasses.replace(stored, state=state)])
    return container.event_store.head()


def test_a_rebuild_parks_an_event_with_a_nul_and_completes(own_store, capsys):
    container = own_store
    fine = StandardTemplate.draft(META, "ISO 9001", "2015", "Quality manual")
    container.event_store.append(fine)
    poison_position = append_with_nul_title(container)
    later = StandardTemplate.draft(META, "ISO 45001", "2018", "Safety manual")
    container.event_store.append(later)

    args = argparse.Namespace(verb="rebuild", name="templates", all=False)
    assert projections_command(container.settings, args) == 0
    out = capsys.readouterr().out
    assert "templates: rebuilt from 3 events" in out
    assert "(1 parked)" in out

    with container.database.connection() as conn:
        rows = conn.execute(
            sql.SQL("SELECT title FROM {} ORDER BY title").format(
                qualified("templates", "standard_templates")
            )
        ).fetchall()
        [letter] = dead_letters.parked(conn, "templates")
    assert [r[0] for r in rows] == ["Quality manual", "Safety manual"]
    assert letter.position == poison_position
    assert letter.event_type == "assurehub.standard_template.drafted.v1"
    assert "U+0000" in letter.error
    # The record the relay publishes for the event, NUL and all.
    assert b'"title":"Poi\\u0000son title"' in (letter.record.value or b"")
    envelope = parking.reread(letter).envelope
    assert envelope is not None
    assert envelope.data["title"] == "Poi\x00son title"
    [status] = [s for s in container.projection_status() if s.projection == "templates"]
    assert (status.projection, status.parked, status.state) == ("templates", 1, "ok")


def test_letters_parked_before_raw_records_are_kept_readable(migrated):
    with scratch_database(migrated) as settings:
        AssureHubApplication(postgres_env(settings, create_table=True)).close()
        database = Database.from_settings(settings)
        try:
            with database.connection() as conn:
                apply_migrations(conn, range(1, 13))
                conn.execute(LEGACY_LETTER, legacy_values())
                apply_migrations(conn, range(13, 10_000))
                [letter] = dead_letters.parked(conn, "templates")
        finally:
            database.close()
    delivery = parking.reread(letter)
    assert delivery.problem is None
    assert delivery.envelope == LEGACY_ENVELOPE
    assert (letter.position, letter.subject, letter.error) == (
        41,
        LEGACY_ENVELOPE.subject,
        "ValueError: boom",
    )


def apply_migrations(conn, numbers: range) -> None:
    for name, text in migration_files():
        if int(name[:4]) in numbers:
            with conn.transaction():
                conn.execute(text.encode())


LEGACY_ENVELOPE = EventEnvelope(
    id=str(uuid.uuid4()),
    type="assurehub.standard_template.drafted.v1",
    source="/assurehub",
    subject=str(uuid.uuid4()),
    time=datetime(2026, 1, 1, 12, 30, tzinfo=UTC),
    tenant_id="t1",
    position=41,
    aggregate_version=1,
    actor_id="alice",
    correlation_id="req-9",
    causation_id="req-9",
    data={"standard_name": "ISO 9001", "edition": "2015", "title": "Ünïcode"},
)

LEGACY_LETTER = (
    "INSERT INTO projection_dead_letters (projection, event_id, state, position,"
    " event_type, subject, tenant_id, topic, partition, kafka_offset, envelope,"
    " error, traceback) VALUES ('templates', %s, 'parked', %s, %s, %s, %s,"
    " 'assurehub.events', 1, 7, %s, 'ValueError: boom', '')"
)


def legacy_values() -> tuple:
    e = LEGACY_ENVELOPE
    envelope = {**dataclasses.asdict(e), "time": e.time.isoformat()}
    return (e.id, e.position, e.type, e.subject, e.tenant_id, Jsonb(envelope))
