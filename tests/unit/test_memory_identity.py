"""The in-memory identity twin fulfils the identity contract, and the
command handler hands its records to the event store."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import PersistenceError

from commands.context import CommandContext
from commands.handling import AggregateHandler
from commands.identity.ports import OneTimeTokenUsed, SideRecordRefusedError
from domain.organization import Organization
from domain.principal import Principal, Role
from infra.eventstore.memory import in_memory_env, memory_identity
from infra.eventstore.store import LibraryEventStore
from tests.identity_contract import NOW, IdentityContract, saved


class TestMemoryIdentity(IdentityContract):
    @pytest.fixture
    def store(self):
        return LibraryEventStore(in_memory_env())

    @pytest.fixture
    def directory(self, store):
        return memory_identity(store)

    @pytest.fixture
    def outbox(self, store):
        def find(message_id):
            found = [
                m for m in memory_identity(store).outbox if m.message_id == message_id
            ]
            return (
                (found[0].recipient, found[0].subject, found[0].body) if found else None
            )

        return find


def test_a_command_commits_its_records_with_its_events():
    store = LibraryEventStore(in_memory_env())
    ctx = CommandContext(
        Principal("tenant-h", "alice", frozenset({Role.TENANT_ADMIN})), "req"
    )
    org = Organization.register(ctx.meta(), "Handled Ltd", "NL")
    account = saved("tenant-h")

    accepted, _ = AggregateHandler(store).commit(ctx, org, records=[account])

    assert accepted.id == org.id
    assert memory_identity(store).account(account.account_id) is not None


def test_a_refusal_wrapped_by_the_library_still_reaches_the_caller(monkeypatch):
    store = LibraryEventStore(in_memory_env())
    record = OneTimeTokenUsed("digest", "invitation", NOW)

    def save(*_aggregates, **_kwargs):
        try:
            raise SideRecordRefusedError(record)
        except SideRecordRefusedError as e:
            raise PersistenceError("insert failed") from e

    monkeypatch.setattr(store.app, "save", save)
    org = Organization.register(
        CommandContext(
            Principal("tenant-w", "alice", frozenset({Role.TENANT_ADMIN})), "req"
        ).meta(),
        "Wrapped Ltd",
        "NL",
    )
    with pytest.raises(SideRecordRefusedError) as refusal:
        store.append(org)
    assert refusal.value.record is record
