"""The organizations read model: the detail view and the ``ORGANIZATIONS``
listing over it, tenant-safe, with literal prefixes and stable cursor pages."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.principal import Principal, Role
from infra.postgres.listing import PostgresListingView
from infra.postgres.rows import PostgresRows, schema_name
from projections.collections import ORGANIZATIONS
from projections.envelope import EventEnvelope
from projections.listing import InvalidCursorError, Page
from projections.organizations import (
    REGISTERED,
    RENAMED,
    OrganizationProjection,
)
from read_api.listing import parse_request


def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


def project(container, event: EventEnvelope) -> None:
    """Apply one event, as the runner would."""
    projection = OrganizationProjection()
    with container.database.connection() as conn, conn.transaction():
        rows = PostgresRows(conn, schema_name(projection.name), projection.tables)
        projection.apply(event, rows)


def envelope(tenant_id: str, org_id: uuid.UUID, type_: str, data, version=1):
    return EventEnvelope(
        id=str(uuid.uuid4()),
        type=type_,
        source="/test",
        subject=str(org_id),
        time=datetime.now(UTC),
        tenant_id=tenant_id,
        position=version,
        aggregate_version=version,
        actor_id="test",
        correlation_id="test",
        causation_id="test",
        data=data,
    )


def insert(
    container, tenant_id: str, name: str, country: str = "GB", number=None
) -> uuid.UUID:
    """Project a registration."""
    org_id = uuid.uuid4()
    data = {"name": name, "country": country, "registration_number": number}
    project(container, envelope(tenant_id, org_id, REGISTERED, data))
    return org_id


def reader(tenant_id: str, orgs=None) -> Principal:
    return Principal(tenant_id, "reader", frozenset({Role.COMPLIANCE_OFFICER}), orgs)


def listed(container, principal: Principal, *params: tuple[str, str]) -> Page:
    query = parse_request(ORGANIZATIONS, list(params)).query
    return PostgresListingView(container.database).page(principal, ORGANIZATIONS, query)


def names(page: Page) -> list[str]:
    return [r["name"] for r in page.items]


def test_another_tenant_sees_nothing(container, migrated):
    mine, theirs = tenant(), tenant()
    org_id = insert(container, mine, "Private Ltd")
    assert container.organization_view.get(reader(theirs), org_id) is None
    assert names(listed(container, reader(theirs))) == []
    assert names(listed(container, reader(mine))) == ["Private Ltd"]


def test_organization_scope_limits_a_client_user(container, migrated):
    t = tenant()
    own = insert(container, t, "Own Ltd")
    other = insert(container, t, "Other Ltd")
    client = reader(t, frozenset({own}))
    assert names(listed(container, client)) == ["Own Ltd"]
    assert container.organization_view.get(client, other) is None
    assert names(listed(container, reader(t, frozenset()))) == []


def test_a_list_row_has_no_tenant_key_or_sites(container, migrated):
    t = tenant()
    org_id = insert(container, t, "Row Ltd", "SE", "556000-1234")
    [row] = listed(container, reader(t)).items
    assert row["id"] == org_id
    assert (row["country"], row["registration_number"]) == ("SE", "556000-1234")
    assert row["archived"] is False
    assert not {"tenant_id", "name_key", "sites"} & set(row)


def test_name_prefix_is_literal_and_case_insensitive(container, migrated):
    t = tenant()
    for name in ["100% Steel", "100 Percent", "acme_one", "AcmeXone"]:
        insert(container, t, name)
    insert(container, t, "Beta", country="FR")

    def prefixed(prefix: str) -> list[str]:
        return names(listed(container, reader(t), ("name_prefix", prefix)))

    assert prefixed("100%") == ["100% Steel"]
    assert prefixed("ACME_") == ["acme_one"]
    assert prefixed("acme") == ["acme_one", "AcmeXone"]
    assert names(listed(container, reader(t), ("country", "fr"))) == ["Beta"]


def test_a_renamed_organization_is_found_by_its_new_name(container, migrated):
    t = tenant()
    org_id = insert(container, t, "Old Name Ltd")
    project(container, envelope(t, org_id, RENAMED, {"name": "Zeta Ltd"}, 2))
    assert names(listed(container, reader(t), ("name_prefix", "ZET"))) == ["Zeta Ltd"]
    assert names(listed(container, reader(t), ("name_prefix", "old"))) == []


def test_free_text_finds_a_registration_number(container, migrated):
    t = tenant()
    insert(container, t, "Numbered AB", number="556000-1234")
    insert(container, t, "Other AB", number="556999-0000")
    assert names(listed(container, reader(t), ("q", "000-12"))) == ["Numbered AB"]


def test_cursor_pages_neither_skip_nor_repeat_while_rows_are_inserted(
    container, migrated
):
    t = tenant()
    for name in ["B", "d", "F", "h"]:
        insert(container, t, name)
    view = PostgresListingView(container.database)
    query = parse_request(ORGANIZATIONS, [("limit", "2")]).query
    first = view.page(reader(t), ORGANIZATIONS, query)
    assert names(first) == ["B", "d"]
    insert(container, t, "a")  # sorts before the cursor
    insert(container, t, "E")  # sorts after it
    second = view.page(
        reader(t), ORGANIZATIONS, replace(query, cursor=first.next_cursor)
    )
    third = view.page(
        reader(t), ORGANIZATIONS, replace(query, cursor=second.next_cursor)
    )
    assert names(second) == ["E", "F"]
    assert names(third) == ["h"]
    assert third.next_cursor is None


def test_a_forged_cursor_is_refused(container, migrated):
    with pytest.raises(InvalidCursorError):
        listed(container, reader(tenant()), ("cursor", "not-a-cursor"))
