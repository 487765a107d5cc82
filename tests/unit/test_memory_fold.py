"""The rebuild's in-memory fold refuses what Postgres would refuse, undoes a
failed event entirely, and stores JSON values as Postgres returns them."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from infra.projection.memory_fold import MemoryFold
from projections.envelope import EventEnvelope
from projections.rows import Rows, Table, columns

NOTES = Table(
    "notes",
    columns("tenant_id text, id uuid, title text, tags jsonb, meta jsonb?, n integer?"),
    key=("tenant_id", "id"),
)
TALLY = Table("tally", columns("tenant_id text, events integer"), key=("tenant_id",))


class Notes:
    """``created`` inserts a note, ``changed`` sets what its data says; every
    event also counts in ``tally`` first, so a failure must undo that too."""

    name = "notes"
    tables: tuple[Table, ...] = (NOTES, TALLY)

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        tally = store.get("tally", ("t1",))
        count = 1 if tally is None else tally["events"] + 1
        store.upsert("tally", {"tenant_id": "t1", "events": count})
        key = ("t1", UUID(event.subject))
        if event.type == "created":
            store.insert("notes", {"tenant_id": "t1", "id": key[1], **event.data})
        else:
            store.update("notes", key, dict(event.data))


def envelope(subject: UUID, kind: str, position: int, **data) -> EventEnvelope:
    return EventEnvelope(
        id=str(uuid4()),
        type=kind,
        source="test",
        subject=str(subject),
        time=datetime(2026, 1, 1, tzinfo=UTC),
        tenant_id="t1",
        position=position,
        aggregate_version=position,
        actor_id="a",
        correlation_id="c",
        causation_id="c",
        data=data,
    )


def note(fold: MemoryFold, subject: UUID):
    return fold.memory.get("notes", ("t1", subject))


def test_json_values_are_stored_as_postgres_returns_them():
    fold, one = MemoryFold(Notes()), uuid4()
    fold.apply(envelope(one, "created", 1, title="a", tags=("x", "y")))
    fold.apply(envelope(one, "changed", 2, meta={"n": (1, 2), "d": {"k": ("a",)}}))
    assert note(fold, one)["tags"] == ["x", "y"]
    assert note(fold, one)["meta"] == {"n": [1, 2], "d": {"k": ["a"]}}
    assert fold.parked == []


def test_a_null_in_a_not_null_column_parks_the_event_and_undoes_all_it_did():
    fold, one = MemoryFold(Notes()), uuid4()
    fold.apply(envelope(one, "created", 1, title="a", tags=["x"]))
    fold.apply(envelope(one, "changed", 2, title=None, n=5))
    assert note(fold, one)["title"] == "a"
    assert note(fold, one)["n"] is None
    assert fold.memory.get("tally", ("t1",)) == {"tenant_id": "t1", "events": 1}
    [parked] = fold.parked
    assert "null value in column 'title'" in parked.error


def test_a_created_row_missing_a_not_null_column_is_refused():
    fold, one = MemoryFold(Notes()), uuid4()
    fold.apply(envelope(one, "created", 1, title="a"))  # no tags
    assert note(fold, one) is None
    assert "'tags'" in fold.parked[0].error


def test_an_undone_event_restores_json_values_and_later_events_of_it_wait():
    fold, one, two = MemoryFold(Notes()), uuid4(), uuid4()
    fold.apply(envelope(one, "created", 1, title="a", tags=["x"]))
    fold.apply(envelope(one, "changed", 2, tags=["y"], meta={"k": object()}))
    assert note(fold, one)["tags"] == ["x"]
    assert note(fold, one)["meta"] is None
    fold.apply(envelope(one, "changed", 3, title="b"))
    fold.apply(envelope(two, "created", 4, title="c", tags=[]))
    assert note(fold, one)["title"] == "a"
    assert [p.position for p in fold.parked] == [2, 3]
    assert note(fold, two)["title"] == "c"


def test_text_postgres_cannot_store_parks_the_event_with_its_record_bytes():
    fold, one, two, three = MemoryFold(Notes()), uuid4(), uuid4(), uuid4()
    fold.apply(envelope(one, "created", 1, title="bad\x00title", tags=[]))
    fold.apply(envelope(two, "created", 2, title="fine", tags=[{"k": "a\x00"}]))
    fold.apply(envelope(three, "created", 3, title="lone \udc80", tags=[]))
    fold.apply(envelope(uuid4(), "created", 4, title="fine", tags=["ok"]))
    assert [p.position for p in fold.parked] == [1, 2, 3]
    assert all("U+0000 or a lone surrogate" in p.error for p in fold.parked)
    assert note(fold, one) is None
    assert note(fold, two) is None
    # The letter keeps the record the relay would publish, NUL and all.
    record = fold.parked[0].record
    assert record.key == str(one).encode()
    assert b'"title":"bad\\u0000title"' in (record.value or b"")
    assert (b"ce_position", b"1") in record.headers
    assert b"\\udc80" in (fold.parked[2].record.value or b"")
