"""The identity read models on Postgres: the ``accounts`` and
``security_events`` projections written through :class:`PostgresRows`, read
through their listings (filters, sorts, cursor pages) and through the query
routes on a local app; another tenant's rows never appear.

Every test uses tenants of its own.
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count

import httpx
from fastapi import FastAPI

from domain.principal import Principal, Role
from infra.postgres.listing import PostgresListingView
from infra.postgres.rows import PostgresRows, schema_name
from projections.accounts import AccountsProjection
from projections.collections import SECURITY_EVENTS, USERS
from projections.envelope import EventEnvelope
from projections.listing import Listing, Page
from projections.ports import TableProjection
from projections.security_events import SecurityEventsProjection
from read_api import security_events, users
from read_api.listing import parse_request
from read_api.problems import install_problem_handlers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_positions = count(1_000_000)


def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


def event(
    tenant_id: str,
    subject: uuid.UUID,
    kind: str,
    data: dict,
    *,
    version: int = 1,
    at: datetime = T0,
    actor: str = "admin",
) -> EventEnvelope:
    return EventEnvelope(
        id=str(uuid.uuid4()),
        type=f"assurehub.{kind}.v1",
        source="/test",
        subject=str(subject),
        time=at,
        tenant_id=tenant_id,
        position=next(_positions),
        aggregate_version=version,
        actor_id=actor,
        correlation_id="test",
        causation_id="test",
        data=data,
    )


def project(container, projection: TableProjection, *events: EventEnvelope) -> None:
    """Apply events in one transaction, as the runner would."""
    with container.database.connection() as conn, conn.transaction():
        rows = PostgresRows(conn, schema_name(projection.name), projection.tables)
        for e in events:
            projection.apply(e, rows)


def invite(
    container,
    tenant_id: str,
    email: str,
    name: str,
    roles=("auditor",),
    *,
    at: datetime = T0,
    then: tuple[tuple[str, dict], ...] = (),
) -> uuid.UUID:
    """Project an invitation (and the account's next events)."""
    account = uuid.uuid4()
    data = {
        "email": email,
        "name": name,
        "roles": list(roles),
        "organization_ids": [],
        "expires_at": (at + timedelta(days=3)).isoformat(),
    }
    events = [event(tenant_id, account, "account.invited", data, at=at)]
    for i, (kind, more) in enumerate(then, start=2):
        events.append(
            event(tenant_id, account, kind, more, version=i, at=at + timedelta(hours=i))
        )
    project(container, AccountsProjection(), *events)
    return account


def reader(tenant_id: str, **scopes) -> Principal:
    roles = frozenset({Role.COMPLIANCE_OFFICER})
    return Principal(tenant_id, "reader", roles, **scopes)


def listed(container, listing: Listing, principal: Principal, *params) -> Page:
    query = parse_request(listing, list(params)).query
    return PostgresListingView(container.database).page(principal, listing, query)


def emails(page: Page) -> list[str]:
    return [r["email"] for r in page.items]


# --- users ---------------------------------------------------------------------


def test_users_are_listed_by_email_and_never_across_tenants(container, migrated):
    mine, theirs = tenant(), tenant()
    invite(container, mine, "bob@example.com", "Bob")
    invite(container, mine, "alice@example.com", "alice")
    invite(container, theirs, "eve@example.com", "Eve")
    page = listed(container, USERS, reader(mine))
    assert emails(page) == ["alice@example.com", "bob@example.com"]
    assert not {"tenant_id", "name_key"} & set(page.items[0])
    assert emails(listed(container, USERS, reader(theirs))) == ["eve@example.com"]
    scoped = reader(mine, organization_ids=frozenset({uuid.uuid4()}))
    assert emails(listed(container, USERS, scoped)) == []


def test_users_filter_by_status_role_mfa_and_free_text(container, migrated):
    t = tenant()
    invite(container, t, "ada@example.com", "Ada Lovelace", ("decision_maker",))
    invite(
        container,
        t,
        "grace@example.com",
        "Grace Hopper",
        ("auditor", "technical_reviewer"),
        then=(("account.activated", {}), ("account.mfa_enrolled", {"method": "totp"})),
    )
    invite(
        container,
        t,
        "linus@example.org",
        "Linus",
        then=(("account.activated", {}), ("account.deactivated", {})),
    )

    def find(*params) -> list[str]:
        return emails(listed(container, USERS, reader(t), *params))

    assert find(("status", "active")) == ["grace@example.com"]
    assert find(("status", "invited,deactivated")) == [
        "ada@example.com",
        "linus@example.org",
    ]
    assert find(("role", "technical_reviewer")) == ["grace@example.com"]
    assert find(("role", "decision_maker"), ("role", "technical_reviewer")) == [
        "ada@example.com",
        "grace@example.com",
    ]
    assert find(("mfa_enrolled", "true")) == ["grace@example.com"]
    assert find(("q", "HOPPER")) == ["grace@example.com"]
    assert find(("q", "example.org")) == ["linus@example.org"]


def test_users_sort_by_name_invitation_and_last_login(container, migrated):
    t = tenant()
    later = T0 + timedelta(days=1)
    login = ("account.login_succeeded", {"method": "password", "address": None})
    invite(container, t, "z@example.com", "anna", at=T0)
    invite(
        container,
        t,
        "y@example.com",
        "Bert",
        at=later,
        then=(("account.activated", {}), login),
    )
    invite(container, t, "x@example.com", "carl", at=T0 + timedelta(hours=1))

    def order(sort: str) -> list[str]:
        return emails(listed(container, USERS, reader(t), ("sort", sort)))

    assert order("name") == ["z@example.com", "y@example.com", "x@example.com"]
    assert order("-invited_at") == ["y@example.com", "x@example.com", "z@example.com"]
    assert order("-last_login_at")[0] == "y@example.com"  # never logged in: last


def test_user_pages_neither_skip_nor_repeat(container, migrated):
    t = tenant()
    for letter in "bdfh":
        invite(container, t, f"{letter}@example.com", letter)
    view = PostgresListingView(container.database)
    query = parse_request(USERS, [("limit", "2")]).query
    first = view.page(reader(t), USERS, query)
    invite(container, t, "a@example.com", "a")  # before the cursor
    invite(container, t, "e@example.com", "e")  # after it
    second = view.page(reader(t), USERS, replace(query, cursor=first.next_cursor))
    third = view.page(reader(t), USERS, replace(query, cursor=second.next_cursor))
    assert emails(first) == ["b@example.com", "d@example.com"]
    assert emails(second) == ["e@example.com", "f@example.com"]
    assert emails(third) == ["h@example.com"]
    assert third.next_cursor is None


def test_roles_and_organizations_round_trip_postgres_arrays(container, migrated):
    t = tenant()
    org = uuid.uuid4()
    account = invite(
        container,
        t,
        "client@example.com",
        "Client",
        ("client_user",),
        then=(
            ("account.organization_scope_changed", {"organization_ids": [str(org)]}),
            ("account.roles_granted", {"roles": ["client_admin"]}),
            ("account.roles_revoked", {"roles": ["client_user"]}),
        ),
    )
    [row] = listed(container, USERS, reader(t)).items
    assert row["id"] == account
    assert row["roles"] == ["client_admin"]
    assert row["organization_ids"] == [org]
    assert row["version"] == 4


# --- security events ------------------------------------------------------------


def record(container, *events: EventEnvelope) -> None:
    project(container, SecurityEventsProjection(), *events)


def kinds(page: Page) -> list[str]:
    return [r["kind"] for r in page.items]


def test_security_events_are_newest_first_and_never_across_tenants(container, migrated):
    mine, theirs = tenant(), tenant()
    account = uuid.uuid4()
    failed = event(
        mine,
        account,
        "account.login_failed",
        {"reason": "bad_password", "address": "203.0.113.7"},
        at=T0 + timedelta(minutes=1),
    )
    invited = event(
        mine,
        account,
        "account.invited",
        {"email": "jane@example.com", "name": "Jane", "roles": ["auditor"]},
    )
    elsewhere = event(theirs, uuid.uuid4(), "account.logged_out", {"session_id": "s"})
    record(container, invited, failed, elsewhere, failed)  # failed redelivered
    page = listed(container, SECURITY_EVENTS, reader(mine))
    assert kinds(page) == ["account.login_failed", "account.invited"]
    newest, oldest = page.items
    assert newest["id"] == uuid.UUID(failed.id)
    assert newest["address"] == "203.0.113.7"
    assert newest["detail"] == {"reason": "bad_password"}
    assert oldest["detail"] == {"roles": ["auditor"]}
    assert "tenant_id" not in newest
    assert kinds(listed(container, SECURITY_EVENTS, reader(theirs))) == [
        "account.logged_out"
    ]
    scoped = reader(mine, audit_ids=frozenset({uuid.uuid4()}))
    assert kinds(listed(container, SECURITY_EVENTS, scoped)) == []


def test_security_events_filter_by_kind_subject_actor_and_date(container, migrated):
    t = tenant()
    jane, bot = uuid.uuid4(), uuid.uuid4()
    day2 = T0 + timedelta(days=1)
    record(
        container,
        event(t, jane, "account.login_failed", {"reason": "bad_otp"}, actor="jane"),
        event(t, jane, "account.locked_out", {"stage": "otp"}, at=day2, actor="jane"),
        event(t, bot, "api_token.issued", {"name": "CI", "roles": ["auditor"]}),
        event(t, bot, "api_token.revoked", {}, at=day2),
    )

    def find(*params) -> list[str]:
        return sorted(kinds(listed(container, SECURITY_EVENTS, reader(t), *params)))

    assert find(("kind", "api_token.issued")) == ["api_token.issued"]
    assert find(("kind", "account.login_failed,account.locked_out")) == [
        "account.locked_out",
        "account.login_failed",
    ]
    assert find(("subject_id", str(bot))) == ["api_token.issued", "api_token.revoked"]
    assert find(("actor_id", "jane")) == ["account.locked_out", "account.login_failed"]
    assert find(("occurred_at_from", "2026-03-03")) == [
        "account.locked_out",
        "api_token.revoked",
    ]
    assert find(("occurred_at_to", "2026-03-02")) == [
        "account.login_failed",
        "api_token.issued",
    ]


def test_security_event_pages_by_position(container, migrated):
    t = tenant()
    account = uuid.uuid4()
    events = [
        event(t, account, "account.logged_out", {"session_id": str(i)}, at=T0)
        for i in range(5)
    ]
    record(container, *events)
    view = PostgresListingView(container.database)
    query = parse_request(SECURITY_EVENTS, [("sort", "position"), ("limit", "2")]).query
    seen, cursor = [], None
    for _ in range(5):
        page = view.page(reader(t), SECURITY_EVENTS, replace(query, cursor=cursor))
        seen += [r["position"] for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [e.position for e in events]


# --- the routes, on a local app -------------------------------------------------


class FixedCaller:
    """An authenticator that answers with one principal."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        return self.principal


def get(container, principal: Principal, path: str, **params) -> httpx.Response:
    app = FastAPI()
    app.state.container = container
    app.state.authenticator = FixedCaller(principal)
    install_problem_handlers(app)
    app.include_router(users.router)
    app.include_router(security_events.router)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get(path, params=params)

    return asyncio.run(call())


def test_a_user_detail_carries_its_version_and_is_404_elsewhere(container, migrated):
    mine, theirs = tenant(), tenant()
    account = invite(
        container, mine, "jane@example.com", "Jane", then=(("account.activated", {}),)
    )
    answer = get(container, reader(mine), f"/users/{account}")
    assert answer.status_code == 200
    assert answer.headers["etag"] == '"2"'
    assert answer.json()["status"] == "active"
    assert get(container, reader(theirs), f"/users/{account}").status_code == 404
    listed_elsewhere = get(container, reader(theirs), "/users")
    assert listed_elsewhere.json()["items"] == []


def test_the_routes_need_their_permissions(container, migrated):
    auditor = Principal(tenant(), "a", frozenset({Role.AUDITOR}))
    assert get(container, auditor, "/users").status_code == 403
    assert get(container, auditor, "/security-events").status_code == 403


def test_an_event_log_mismatch_is_listed_with_what_was_found(container, migrated):
    mine, theirs = tenant(), tenant()
    found = {
        "alert_id": 3,
        "position": 48211,
        "problem": "payload altered",
        "detail": "the payload does not match its hash",
        "segment_from": 48000,
        "segment_to": 48230,
    }
    mismatch = event(
        mine,
        uuid.uuid4(),
        "event_log.mismatch_detected",
        found,
        actor="system:event-log",
    )
    record(container, mismatch)
    answer = get(
        container,
        reader(mine),
        "/security-events",
        kind="event_log.mismatch_detected",
    )
    assert answer.status_code == 200
    [item] = answer.json()["items"]
    assert (item["kind"], item["actor_id"]) == (
        "event_log.mismatch_detected",
        "system:event-log",
    )
    assert {k: v for k, v in item["detail"].items() if v is not None} == found
    elsewhere = get(container, reader(theirs), "/security-events")
    assert elsewhere.json()["items"] == []


def test_security_events_export_as_csv(container, migrated):
    t = tenant()
    record(
        container,
        event(
            t,
            uuid.uuid4(),
            "account.login_succeeded",
            {"method": "password", "address": "198.51.100.4", "session_id": "s1"},
        ),
    )
    answer = get(container, reader(t), "/security-events", format="csv")
    assert answer.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(answer.text)))
    assert row["kind"] == "account.login_succeeded"
    assert row["address"] == "198.51.100.4"
    assert row["detail"] == '{"method":"password","session_id":"s1"}'
    unknown = get(container, reader(t), "/security-events", kind="account.hacked")
    assert unknown.status_code == 400
