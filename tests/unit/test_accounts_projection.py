"""The accounts (users) read model, from hand-built envelopes carrying the
account events' public types and fields (as the relay publishes them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from projections.accounts import ACCOUNTS, AccountsProjection
from projections.envelope import EventEnvelope
from projections.rows import MemoryRows, Row

TENANT = "acme-cert"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXPIRES = "2026-03-05T09:00:00+00:00"


class Account:
    """One account's event stream: versions and positions in order."""

    def __init__(self, tenant_id: str = TENANT) -> None:
        self.id = uuid4()
        self.tenant_id = tenant_id
        self.version = 0

    def event(self, kind: str, /, **data) -> EventEnvelope:
        self.version += 1
        return EventEnvelope(
            id=str(uuid4()),
            type=f"assurehub.account.{kind}.v1",
            source="/assurehub",
            subject=str(self.id),
            time=T0 + timedelta(hours=self.version),
            tenant_id=self.tenant_id,
            position=100 + self.version,
            aggregate_version=self.version,
            actor_id="admin",
            correlation_id="req",
            causation_id="req",
            data=data,
        )

    def invited(self, roles=("auditor",), organization_ids=()) -> EventEnvelope:
        return self.event(
            "invited",
            email="jane.doe@example.com",
            name="Jane Doe",
            roles=list(roles),
            organization_ids=[str(o) for o in organization_ids],
            expires_at=EXPIRES,
        )


def project(*envelopes: EventEnvelope) -> MemoryRows:
    projection = AccountsProjection()
    store = MemoryRows(projection.tables)
    for e in envelopes:
        projection.apply(e, store)
    return store


def row(store: MemoryRows, account: Account) -> Row:
    found = store.get(ACCOUNTS.name, (account.tenant_id, account.id))
    assert found is not None
    return found


def test_an_invited_account_is_listed_as_invited():
    a = Account()
    invited = a.invited(roles=["auditor", "programme_manager"])
    r = row(project(invited), a)
    assert (r["email"], r["name"], r["status"]) == (
        "jane.doe@example.com",
        "Jane Doe",
        "invited",
    )
    assert r["roles"] == ["auditor", "programme_manager"]
    assert r["organization_ids"] == []
    assert r["mfa_enrolled"] is False
    assert r["invited_at"] == invited.time
    assert r["invitation_expires_at"] == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    assert r["activated_at"] is None
    assert r["last_login_at"] is None
    assert (r["version"], r["position"]) == (1, invited.position)


def test_a_client_account_carries_its_organizations():
    orgs = sorted([uuid4(), uuid4()])
    a = Account()
    invited = a.invited(["client_user"], reversed(orgs))
    assert row(project(invited), a)["organization_ids"] == orgs
    changed = a.event("organization_scope_changed", organization_ids=[str(orgs[0])])
    assert row(project(invited, changed), a)["organization_ids"] == [orgs[0]]


def test_the_lifecycle_moves_status_roles_mfa_and_last_login():
    a = Account()
    events = [a.invited()]
    events.append(
        a.event("invitation_reissued", expires_at="2026-03-09T09:00:00+00:00")
    )
    activated = a.event("activated")
    events += [
        activated,
        a.event("roles_granted", roles=["decision_maker", "technical_reviewer"]),
        a.event("roles_revoked", roles=["auditor"]),
        a.event("mfa_enrolled", method="totp"),
    ]
    login = a.event(
        "login_succeeded", method="totp", address="203.0.113.7", session_id=str(uuid4())
    )
    events.append(login)
    r = row(project(*events), a)
    assert r["status"] == "active"
    assert r["activated_at"] == activated.time
    assert r["roles"] == ["decision_maker", "technical_reviewer"]
    assert r["mfa_enrolled"] is True
    assert r["last_login_at"] == login.time
    assert r["version"] == a.version

    deactivated = a.event("deactivated")
    r = row(project(*events, deactivated), a)
    assert (r["status"], r["deactivated_at"]) == ("deactivated", deactivated.time)
    reset = a.event("mfa_reset")
    back = a.event("reactivated")
    r = row(project(*events, deactivated, reset, back), a)
    assert (r["status"], r["deactivated_at"], r["mfa_enrolled"]) == (
        "active",
        None,
        False,
    )


def test_reactivating_a_never_activated_account_leaves_it_invited():
    a = Account()
    store = project(a.invited(), a.event("deactivated"), a.event("reactivated"))
    assert row(store, a)["status"] == "invited"


def test_security_events_move_the_version_the_etag_shows():
    a = Account()
    invited, activated = a.invited(), a.event("activated")
    failed = a.event("login_failed", reason="bad_password", address="203.0.113.7")
    store = project(invited, activated, failed)
    r = row(store, a)
    assert (r["version"], r["position"]) == (3, failed.position)
    assert r["last_login_at"] is None


def test_redelivered_events_change_nothing():
    a = Account()
    invited = a.invited(roles=["auditor"])
    granted = a.event("roles_granted", roles=["decision_maker"])
    revoked = a.event("roles_revoked", roles=["decision_maker"])
    store = project(invited, granted, revoked)
    before = row(store, a)
    projection = AccountsProjection()
    for again in (invited, granted, revoked):
        projection.apply(again, store)
    assert row(store, a) == before
    assert before["roles"] == ["auditor"]


def test_an_event_of_an_unknown_account_is_ignored():
    a = Account()
    a.invited()
    store = project(a.event("activated"))
    assert list(store.rows(ACCOUNTS.name)) == []


def test_the_same_account_id_in_two_tenants_is_two_rows():
    a, b = Account("tenant-one"), Account("tenant-two")
    b.id = a.id
    store = project(a.invited(), b.invited(), b.event("activated"))
    assert row(store, a)["status"] == "invited"
    assert row(store, b)["status"] == "active"
    assert isinstance(row(store, b)["id"], UUID)
