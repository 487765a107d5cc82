"""The Postgres event store: the event store contract, round trips,
concurrency, and no silent gaps."""

from __future__ import annotations

import pytest

from commands.context import CommandContext
from commands.errors import ConcurrentWriteError
from commands.organizations import OrganizationService, RegisterOrganization
from domain.events import EventMeta
from domain.organization import Organization
from domain.principal import Principal, Role
from domain.tenant import Tenant
from infra.eventstore.store import LibraryEventStore, postgres_env
from tests.event_store_contract import EventStoreContract
from tests.tailing import tail_while_writing

ADMIN = Principal("tenant-store", "alice", frozenset({Role.TENANT_ADMIN}))
META = EventMeta("tenant-store", "alice", "req-store", "req-store")


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, container):
        return container.event_store


def test_appended_events_load_back_with_their_metadata(container):
    store = container.event_store
    org = Organization.register(META, "Roundtrip Ltd", "NL")
    org.add_site(META, "Plant", "Main St 1", None)
    position = store.append(org)

    loaded = store.load(Organization, org.id)
    assert loaded is not None
    assert (loaded.name, loaded.version, len(loaded.sites)) == ("Roundtrip Ltd", 2, 1)
    stored = store.read_after(position - 2, 2)
    assert [n.originator_version for n in stored] == [1, 2]
    assert store.decode(stored[-1]).meta == META


def test_an_aggregate_loads_exactly_at_a_version_it_reached(container):
    store = container.event_store
    org = Organization.register(META, "Versions Ltd", "NL")
    store.append(org)
    org.rename(META, "Versions Two Ltd")
    org.rename(META, "Versions Three Ltd")
    store.append(org)

    second = store.load_at(Organization, org.id, 2)
    assert second is not None
    assert (second.name, second.version) == ("Versions Two Ltd", 2)
    assert second.modified_on < org.modified_on
    assert store.load_at(Organization, org.id, 4) is None  # not reached yet
    assert store.load_at(Organization, org.id, 0) is None
    assert store.load_at(Tenant, org.id, 1) is None  # another kind


def test_two_writers_of_the_same_version_one_loses(container, migrated):
    store = container.event_store
    org = Organization.register(META, "Race Ltd", "NL")
    store.append(org)
    other = LibraryEventStore(postgres_env(migrated))
    try:
        mine = store.load(Organization, org.id)
        theirs = other.load(Organization, org.id)
        assert mine is not None
        assert theirs is not None
        mine.rename(META, "Mine")
        theirs.rename(META, "Theirs")
        store.append(mine)
        with pytest.raises(ConcurrentWriteError):
            other.append(theirs)
    finally:
        other.close()
    final = store.load(Organization, org.id)
    assert final is not None
    assert (final.name, final.version) == ("Mine", 2)


def test_a_live_reader_never_skips_an_event_under_concurrent_writers(container):
    """Appends under the table lock, gathered by group commit, keep commit
    order = position order: a reader tailing the log while 16 writers append
    sees every event exactly once, in position order."""
    store = container.event_store
    service = OrganizationService(store)
    start = store.head()
    writers, per_writer = 16, 15

    def write(n: int) -> None:
        ctx = CommandContext(ADMIN, f"req-writer-{n}")
        for i in range(per_writer):
            service.register_organization(ctx, RegisterOrganization(f"W{n}-{i}", "DE"))

    seen = [
        n.id
        for n in tail_while_writing(
            lambda last: store.read_after(last, 100),
            lambda n: n.id,
            start,
            write,
            writers,
        )
    ]
    committed = [n.id for n in store.read_after(start, 100_000)]
    assert len(committed) >= writers * per_writer
    assert seen == committed
