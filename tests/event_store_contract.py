"""The contract of the event store's idempotent answers, one class for every
backend: subclass it and provide ``store`` (a ``LibraryEventStore``).

A command's answer is recorded with its events; a command that changed
nothing records its answer alone, at the head of the store, which is what it
answers without a key.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from commands.errors import DuplicateIdempotencyKeyError
from commands.ports import Claim, Idempotency, RecordedAnswer, SideWrites
from domain.events import EventMeta
from domain.organization import Organization


def registered(store) -> Organization:
    """A new organization, appended and loaded back (nothing pending)."""
    meta = EventMeta(f"tenant-{uuid4().hex[:8]}", "alice", "req", "req")
    org = Organization.register(meta, "Unchanged Ltd", "NL")
    store.append(org)
    loaded = store.load(Organization, org.id)
    assert loaded is not None
    return loaded


def keyed(org: Organization, fingerprint: str = "f-1") -> Idempotency:
    return Idempotency(org.tenant_id, f"k-{uuid4().hex}", fingerprint)


class EventStoreContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    def test_an_answer_rides_on_the_events_naming_the_first_aggregate(self, store):
        meta = EventMeta(f"tenant-{uuid4().hex[:8]}", "alice", "req", "req")
        org = Organization.register(meta, "Changed Ltd", "NL")
        org.rename(meta, "Changed Again Ltd")
        key = keyed(org)
        position = store.append(org, side=SideWrites(idempotency=key, outcome="x"))
        answer = store.recorded_answer(key.tenant_id, key.key)
        assert answer == RecordedAnswer("f-1", org.id, 2, position, "x")

    def test_an_unchanged_aggregate_records_its_answer_at_the_head(self, store):
        org = registered(store)
        key = keyed(org)
        head = store.head()
        position = store.append(org, side=SideWrites(idempotency=key, outcome=7))
        assert position == head
        assert store.head() == head, "no event was written"
        answer = store.recorded_answer(key.tenant_id, key.key)
        assert answer == RecordedAnswer("f-1", org.id, org.version, head, 7)

    def test_without_a_key_an_unchanged_aggregate_answers_the_head(self, store):
        org = registered(store)
        assert store.append(org) == store.head()

    def test_a_key_recorded_meanwhile_is_a_duplicate_and_keeps_the_first(self, store):
        org = registered(store)
        key = keyed(org)
        first = store.append(org, side=SideWrites(idempotency=key, outcome="one"))
        other = keyed(org, "f-2")
        with pytest.raises(DuplicateIdempotencyKeyError):
            store.append(
                org,
                side=SideWrites(idempotency=Idempotency(key.tenant_id, key.key, "f-2")),
            )
        answer = store.recorded_answer(key.tenant_id, key.key)
        assert answer == RecordedAnswer("f-1", org.id, org.version, first, "one")
        assert store.recorded_answer(other.tenant_id, other.key) is None

    def test_other_side_writes_without_an_event_are_refused_and_write_nothing(
        self, store
    ):
        org = registered(store)
        key = keyed(org)
        claim = Claim(org.tenant_id, "contract", uuid4().hex)
        with pytest.raises(ValueError, match="at least one event"):
            store.append(org, side=SideWrites(idempotency=key, claims=(claim,)))
        assert store.recorded_answer(key.tenant_id, key.key) is None
