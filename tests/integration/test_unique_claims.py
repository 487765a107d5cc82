"""Unique claims in Postgres: of two commands claiming one value, one wins."""

from __future__ import annotations

import threading
import uuid

from commands.errors import ClaimTakenError
from commands.ports import Claim, SideWrites
from domain.events import EventMeta
from domain.organization import Organization


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
