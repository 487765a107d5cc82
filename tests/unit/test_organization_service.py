"""Organization commands over the in-memory twin of the event store."""

from __future__ import annotations

import pytest

from commands.context import CommandContext
from commands.errors import ConcurrentWriteError, IdempotencyKeyReusedError
from commands.organizations import (
    AddSite,
    OrganizationService,
    RegisterOrganization,
    RenameOrganization,
)
from commands.ports import Idempotency
from domain.errors import NotFoundError, PermissionDeniedError, VersionConflictError
from domain.organization import Organization
from domain.principal import Principal, Role
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore

ADMIN = Principal("tenant-a", "alice", frozenset({Role.TENANT_ADMIN}))
OTHER_TENANT = Principal("tenant-b", "bob", frozenset({Role.TENANT_ADMIN}))
AUDITOR = Principal("tenant-a", "carol", frozenset({Role.AUDITOR}))


@pytest.fixture
def store():
    return LibraryEventStore(in_memory_env())


@pytest.fixture
def service(store):
    return OrganizationService(store)


def ctx(principal=ADMIN):
    return CommandContext(principal, "req-1")


def test_register_returns_id_version_and_position(service, store):
    first = service.register_organization(ctx(), RegisterOrganization("Acme", "GB"))
    second = service.register_organization(ctx(), RegisterOrganization("Beta", "FR"))

    assert (first.version, first.position) == (1, 1)
    assert (second.version, second.position) == (1, 2)
    loaded = store.load(Organization, first.id)
    assert loaded is not None
    assert loaded.tenant_id == "tenant-a"


def test_events_carry_actor_tenant_and_correlation(service, store):
    service.register_organization(
        CommandContext(ADMIN, "req-42"), RegisterOrganization("Acme", "GB")
    )
    [stored] = store.read_after(0, 10)
    meta = store.decode(stored).meta
    assert (meta.tenant_id, meta.actor_id, meta.correlation_id) == (
        "tenant-a",
        "alice",
        "req-42",
    )


def test_stale_expected_version_is_a_conflict_naming_the_current_version(service):
    org = service.register_organization(ctx(), RegisterOrganization("Acme", "GB"))
    service.rename_organization(ctx(), RenameOrganization(org.id, "Acme 2", 1))

    with pytest.raises(VersionConflictError) as raised:
        service.rename_organization(ctx(), RenameOrganization(org.id, "Acme 3", 1))
    assert raised.value.current == 2


def test_another_tenant_cannot_see_or_change_the_organization(service):
    org = service.register_organization(ctx(), RegisterOrganization("Acme", "GB"))
    with pytest.raises(NotFoundError):
        service.rename_organization(
            ctx(OTHER_TENANT), RenameOrganization(org.id, "Mine now")
        )


def test_roles_without_the_permission_are_refused(service):
    with pytest.raises(PermissionDeniedError):
        service.register_organization(ctx(AUDITOR), RegisterOrganization("Acme", "GB"))


def test_lost_race_without_expected_version_is_retried_on_fresh_state(service, store):
    org = service.register_organization(ctx(), RegisterOrganization("Acme", "GB"))
    real_append = store.append
    calls = []

    def racing_append(aggregate, **kwargs):
        calls.append(aggregate.version)
        if len(calls) == 1:
            raise ConcurrentWriteError(aggregate.id)
        return real_append(aggregate, **kwargs)

    store.append = racing_append
    accepted = service.add_site(ctx(), AddSite(org.id, "HQ", "1 Road"))
    assert accepted.version == 2
    assert len(calls) == 2


def keyed(key: str, fingerprint: str, principal=ADMIN) -> CommandContext:
    return CommandContext(
        principal,
        "req-1",
        idempotency=Idempotency(principal.tenant_id, key, fingerprint),
    )


def test_a_retried_command_with_its_key_answers_the_same_and_writes_once(
    service, store
):
    first = service.register_organization(
        keyed("k-1", "f-1"), RegisterOrganization("Acme", "GB")
    )
    again = service.register_organization(
        keyed("k-1", "f-1"), RegisterOrganization("Acme", "GB")
    )
    assert again == first
    assert store.head() == first.position == 1


def test_a_retried_site_gets_the_same_site_id_back(service, store):
    org = service.register_organization(ctx(), RegisterOrganization("Acme", "GB"))
    first = service.add_site(keyed("k-2", "f-2"), AddSite(org.id, "HQ", "1 Road"))
    again = service.add_site(keyed("k-2", "f-2"), AddSite(org.id, "HQ", "1 Road"))
    assert again == first
    assert store.head() == first.position


def test_a_key_reused_for_another_request_is_refused_and_writes_nothing(service, store):
    service.register_organization(keyed("k-3", "f-3"), RegisterOrganization("A", "GB"))
    head = store.head()
    with pytest.raises(IdempotencyKeyReusedError):
        service.register_organization(
            keyed("k-3", "other"), RegisterOrganization("B", "GB")
        )
    assert store.head() == head


def test_keys_are_scoped_to_the_tenant(service):
    mine = service.register_organization(
        keyed("k-4", "f"), RegisterOrganization("A", "GB")
    )
    theirs = service.register_organization(
        keyed("k-4", "f", OTHER_TENANT), RegisterOrganization("A", "GB")
    )
    assert theirs.id != mine.id
