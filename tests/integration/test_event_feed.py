"""The event feed reads exactly what the store holds, tenant by tenant and
scope by scope, while writers append (no gaps, no duplicates)."""

from __future__ import annotations

import uuid

from fastapi.responses import JSONResponse

from commands.context import CommandContext
from commands.organizations import (
    OrganizationService,
    RegisterOrganization,
    RenameOrganization,
)
from domain.principal import Principal, Role
from infra.streaming.cloudevents import structured, to_json
from infra.streaming.feed import EventFeed, FeedQuery, topics_by_type
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.envelope import EventEnvelope
from tests.tailing import tail_while_writing


def _admin(tenant: str) -> Principal:
    return Principal(tenant, "alice", frozenset({Role.TENANT_ADMIN}))


def _store_envelopes(container, start: int, tenant: str):
    """What the relay would publish of ``tenant``'s events after ``start``."""
    envelopes = StoredEnvelopes(container.event_store, container.settings.event_source)
    stored = container.event_store.read_after(start, 100_000)
    every = [envelopes.envelope(n, n.id) for n in stored]
    return [e for e in every if e.tenant_id == tenant]


def _read_all(feed: EventFeed, query: FeedQuery):
    read: list[EventEnvelope] = []
    after = query.after
    while True:
        page = feed.read(FeedQuery(**{**query.__dict__, "after": after}))
        if not page:
            return read
        read.extend(page)
        after = page[-1].position


def test_a_tailing_reader_gets_every_event_once_under_8_concurrent_writers(
    container,
):
    tenants = [f"feed-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    service = OrganizationService(container.event_store)
    feed = container.event_feed
    start = container.event_store.head()
    writers, per_writer = 8, 20

    def write(n: int) -> None:
        ctx = CommandContext(_admin(tenants[n % 2]), f"req-feed-{n}")
        for i in range(per_writer):
            service.register_organization(ctx, RegisterOrganization(f"F{n}-{i}", "SE"))

    seen = tail_while_writing(
        lambda after: feed.read(FeedQuery(tenants[0], after, 7)),
        lambda envelope: envelope.position,
        start,
        write,
        writers,
    )
    stored = _store_envelopes(container, start, tenants[0])
    assert len(stored) == writers // 2 * per_writer
    assert seen == stored  # same events, same order, same CloudEvents
    other = _read_all(feed, FeedQuery(tenants[1], start, 50))
    assert other == _store_envelopes(container, start, tenants[1])
    assert {e.tenant_id for e in other} == {tenants[1]}


def _organizations(container, *renames: tuple[str, str]):
    """A new tenant, the position before it, and per ``(name, new name)`` an
    organization registered, then each renamed: (tenant, start, registered,
    renamed)."""
    tenant = f"feed-{uuid.uuid4().hex[:8]}"
    service = OrganizationService(container.event_store)
    ctx = CommandContext(_admin(tenant), f"req-{tenant}")
    start = container.event_store.head()
    registered = [
        service.register_organization(ctx, RegisterOrganization(name, "SE"))
        for name, _ in renames
    ]
    renamed = [
        service.rename_organization(ctx, RenameOrganization(r.id, new))
        for r, (_, new) in zip(registered, renames, strict=True)
        if new
    ]
    return tenant, start, registered, renamed


def test_organization_scope_type_filter_and_resuming(container):
    tenant, start, [mine, theirs], [renamed] = _organizations(
        container, ("Mine", "Mine 2"), ("Theirs", "")
    )

    scoped = _read_all(
        container.event_feed,
        FeedQuery(tenant, start, 1, organization_ids=frozenset({mine.id})),
    )
    assert [e.position for e in scoped] == [mine.position, renamed.position]
    assert {e.subject for e in scoped} == {str(mine.id)}

    renames = frozenset(topics_by_type()["assurehub.organization.renamed.v1"])
    only = container.event_feed.read(FeedQuery(tenant, start, 10, topics=renames))
    assert [e.position for e in only] == [renamed.position]

    resumed = container.event_feed.read(FeedQuery(tenant, mine.position, 10))
    assert [e.position for e in resumed] == [theirs.position, renamed.position]
    nobody = FeedQuery(tenant, start, 10, organization_ids=frozenset())
    assert container.event_feed.read(nobody) == []


def test_the_page_straight_from_the_rows_is_the_page_through_envelopes(container):
    tenant, start, [one, two], _ = _organizations(
        container, ("Ünï «1»", 'One "AB"'), ("Two 😀", "Two \\ AB")
    )
    renames = frozenset(topics_by_type()["assurehub.organization.renamed.v1"])
    queries = [
        FeedQuery(tenant, start, 100),
        FeedQuery(tenant, start, 2),
        FeedQuery(tenant, one.position, 100),
        FeedQuery(tenant, start, 100, topics=renames),
        FeedQuery(tenant, start, 100, organization_ids=frozenset({two.id})),
        FeedQuery(tenant, start, 100, aggregate_ids=frozenset({one.id})),
        FeedQuery(tenant, start, 100, organization_ids=frozenset()),
    ]
    feed = container.event_feed
    for query in queries:
        for personal in (False, True):
            expected = [structured(e) for e in feed.read(query, personal=personal)]
            page = feed.page(query, personal=personal)
            assert repr(page) == repr(expected), (query, personal)
            assert to_json(page) == JSONResponse(expected).body
    assert len(feed.page(queries[0])) == 4
    assert [e["subject"] for e in feed.page(queries[4])] == [str(two.id)] * 2
