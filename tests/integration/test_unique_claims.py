"""Unique claims in Postgres: of two commands claiming one value, one wins."""

from __future__ import annotations

import threading
import uuid

import pytest

from commands.errors import ClaimTakenError
from commands.ports import Claim, SideWrites
from domain.events import EventMeta
from domain.organization import Organization
from infra.eventstore.store import LibraryEventStore, postgres_env


def test_concurrent_claims_of_one_value_write_one_aggregate(container):
    store = container.event_store
    tenant = f"tenant-claims-{uuid.uuid4().hex[:8]}"
    meta = EventMeta(tenant, "alice", "req-claims", "req-claims")
    claim = Claim(tenant, "certificate.audit", str(uuid.uuid4()))
    start = threading.Barrier(4)
    outcomes: list[str] = []
    orgs = [Organization.register(meta, f"Claimant {i}", "NL") for i in range(4)]

    def claim_with(org: Organization) -> None:
        start.wait(timeout=10)
        try:
            store.append(org, side=SideWrites(claims=(claim,)))
            outcomes.append("won")
        except ClaimTakenError:
            outcomes.append("refused")

    threads = [threading.Thread(target=claim_with, args=(o,)) for o in orgs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes) == ["refused", "refused", "refused", "won"]
    stored = [store.load(Organization, o.id) for o in orgs]
    assert sum(o is not None for o in stored) == 1, "the losers wrote no event"


def test_a_claim_is_per_tenant(container):
    store = container.event_store
    key = str(uuid.uuid4())
    for tenant in (f"tenant-c1-{key[:6]}", f"tenant-c2-{key[:6]}"):
        meta = EventMeta(tenant, "alice", "req", "req")
        org = Organization.register(meta, "Claimant", "NL")
        store.append(org, side=SideWrites(claims=(Claim(tenant, "scope", key),)))
        assert store.load(Organization, org.id) is not None


def test_a_connection_keeps_working_after_many_refused_claims(migrated):
    """The statements queued after a refused claim are skipped: a connection
    that has refused many must still append (none of them was prepared)."""
    env = {**postgres_env(migrated), "POSTGRES_POOL_SIZE": "1"}
    env["POSTGRES_MAX_OVERFLOW"] = "0"
    store = LibraryEventStore(env)
    tenant = f"tenant-claims-{uuid.uuid4().hex[:8]}"
    meta = EventMeta(tenant, "alice", "req", "req")
    taken = Claim(tenant, "scope", "taken")
    try:
        store.append(
            Organization.register(meta, "Holder", "NL"),
            side=SideWrites(claims=(taken,)),
        )
        for i in range(8):
            fresh = Claim(tenant, "scope", f"fresh-{i}")
            with pytest.raises(ClaimTakenError) as refused:
                store.append(
                    Organization.register(meta, f"Refused {i}", "NL"),
                    side=SideWrites(claims=(taken, fresh)),
                )
            assert refused.value.key == "taken"
            org = Organization.register(meta, f"Claimant {i}", "NL")
            store.append(org, side=SideWrites(claims=(fresh,)))
            assert store.load(Organization, org.id) is not None
    finally:
        store.close()
