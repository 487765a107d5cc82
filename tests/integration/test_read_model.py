"""The organizations view: tenant-safe filters and stable cursor pages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.principal import Principal, Role
from infra.postgres.organizations import InvalidCursorError
from infra.postgres.rows import PostgresRows, schema_name
from projections.envelope import EventEnvelope
from projections.organizations import (
    REGISTERED,
    OrganizationProjection,
    OrganizationQuery,
)


def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


def insert(container, tenant_id: str, name: str, country: str = "GB") -> uuid.UUID:
    """Project a registration, as the runner would."""
    org_id = uuid.uuid4()
    registered = EventEnvelope(
        id=str(uuid.uuid4()),
        type=REGISTERED,
        source="/test",
        subject=str(org_id),
        time=datetime.now(UTC),
        tenant_id=tenant_id,
        position=1,
        aggregate_version=1,
        actor_id="test",
        correlation_id="test",
        causation_id="test",
        data={"name": name, "country": country, "registration_number": None},
    )
    projection = OrganizationProjection()
    with container.database.connection() as conn, conn.transaction():
        rows = PostgresRows(conn, schema_name(projection.name), projection.tables)
        projection.apply(registered, rows)
    return org_id


def reader(tenant_id: str, orgs=None) -> Principal:
    return Principal(tenant_id, "reader", frozenset({Role.COMPLIANCE_OFFICER}), orgs)


def names(page) -> list[str]:
    return [r.name for r in page.items]


def test_another_tenant_sees_nothing(container, migrated):
    mine, theirs = tenant(), tenant()
    org_id = insert(container, mine, "Private Ltd")
    view = container.organization_view
    assert view.get(reader(theirs), org_id) is None
    assert names(view.list(reader(theirs), OrganizationQuery())) == []
    assert names(view.list(reader(mine), OrganizationQuery())) == ["Private Ltd"]


def test_organization_scope_limits_a_client_user(container, migrated):
    t = tenant()
    own = insert(container, t, "Own Ltd")
    other = insert(container, t, "Other Ltd")
    client = reader(t, frozenset({own}))
    view = container.organization_view
    assert names(view.list(client, OrganizationQuery())) == ["Own Ltd"]
    assert view.get(client, other) is None


def test_name_prefix_is_literal_and_case_insensitive(container, migrated):
    t = tenant()
    for name in ["100% Steel", "100 Percent", "acme_one", "AcmeXone"]:
        insert(container, t, name)
    insert(container, t, "Beta", country="FR")
    view = container.organization_view
    assert names(view.list(reader(t), OrganizationQuery(name_prefix="100%"))) == [
        "100% Steel"
    ]
    assert names(view.list(reader(t), OrganizationQuery(name_prefix="ACME_"))) == [
        "acme_one"
    ]
    assert names(view.list(reader(t), OrganizationQuery(country="FR"))) == ["Beta"]


def test_cursor_pages_neither_skip_nor_repeat_while_rows_are_inserted(
    container, migrated
):
    t = tenant()
    for name in ["B", "D", "F", "H"]:
        insert(container, t, name)
    view = container.organization_view
    first = view.list(reader(t), OrganizationQuery(limit=2))
    assert names(first) == ["B", "D"]
    insert(container, t, "A")  # sorts before the cursor
    insert(container, t, "E")  # sorts after it
    second = view.list(reader(t), OrganizationQuery(limit=2, after=first.next_cursor))
    third = view.list(reader(t), OrganizationQuery(limit=2, after=second.next_cursor))
    assert names(second) == ["E", "F"]
    assert names(third) == ["H"]
    assert third.next_cursor is None


def test_a_forged_cursor_is_refused(container, migrated):
    with pytest.raises(InvalidCursorError):
        container.organization_view.list(
            reader(tenant()), OrganizationQuery(after="not-a-cursor")
        )
