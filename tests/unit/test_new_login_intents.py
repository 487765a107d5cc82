"""The ``notifications`` projection's part of the new-login e-mail: which
logins call for one, and what it keeps of the addresses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import count
from uuid import uuid4

from domain.notifications import NotificationKind
from projections.envelope import EventEnvelope
from projections.notification_intents import (
    INTENTS,
    LOGIN_ADDRESSES,
    NotificationIntentsProjection,
    address_hash,
)
from projections.rows import MemoryRows

TENANT = "acme-cert"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_positions = count(1)


def event(kind: str, account: str, **data: object) -> EventEnvelope:
    position = next(_positions)
    return EventEnvelope(
        id=str(uuid4()),
        type=f"assurehub.account.{kind}.v1",
        source="/assurehub",
        subject=account,
        time=T0 + timedelta(minutes=position),
        tenant_id=TENANT,
        position=position,
        aggregate_version=position,
        actor_id=account,
        correlation_id="req",
        causation_id="req",
        data=data,
    )


def login(account: str, address: str | None) -> EventEnvelope:
    return event("login_succeeded", account, method="password", address=address)


def project(*events: EventEnvelope) -> MemoryRows:
    projection = NotificationIntentsProjection()
    store = MemoryRows(projection.tables)
    for e in events:
        projection.apply(e, store)
    return store


def test_only_a_later_login_from_an_unknown_address_calls_for_an_email():
    me, other = str(uuid4()), str(uuid4())
    new = login(me, "198.51.100.7")
    store = project(
        login(me, "203.0.113.5"),  # first login ever: nothing
        login(me, "203.0.113.5"),  # known address: nothing
        login(other, "198.51.100.7"),  # another account's first login
        login(me, None),  # no address: nothing to compare
        new,
        login(me, "198.51.100.7"),  # now known
    )
    intents = list(store.rows(INTENTS.name))
    assert [(i["event_id"], i["kind"]) for i in intents] == [
        (new.id, NotificationKind.NEW_LOGIN.value)
    ]
    assert intents[0]["facts"] == {
        "address": "198.51.100.7",
        "at": new.time.isoformat(),
    }


def test_addresses_are_kept_only_as_digests_and_erasure_forgets_them():
    me, other = str(uuid4()), str(uuid4())
    store = project(
        login(me, "203.0.113.5"),
        login(me, "198.51.100.7"),
        login(other, "203.0.113.5"),
    )
    kept = json.dumps(list(store.rows(LOGIN_ADDRESSES.name)), default=str)
    assert "203.0.113.5" not in kept
    assert address_hash("203.0.113.5") in kept
    projection = NotificationIntentsProjection()
    projection.apply(event("erased", me), store)
    left = list(store.rows(LOGIN_ADDRESSES.name))
    assert {str(r["account_id"]) for r in left} == {other}
    assert list(store.rows(INTENTS.name)) == []
