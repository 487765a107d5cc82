"""Webhooks delivered to a real receiver process that verifies them with the
standardwebhooks library: through a dispatcher killed mid-delivery and a
receiver that fails for a while, nothing is lost and one aggregate's events
arrive in position order; a subscription failing for its retry window is
paused and its tenant's administrators are e-mailed."""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict

from commands.context import CommandContext
from commands.organizations import RegisterOrganization, RenameOrganization
from commands.webhooks import Subscribe
from domain.principal import Principal, Role
from infra.eventstore.store import EVENTS_TABLE
from infra.postgres.webhooks import PostgresWebhooks
from infra.webhooks.sender import RetryPolicy, WebhookSender
from infra.webhooks.targets import Target, TargetPolicy
from infra.webhooks.transport import HttpTransport
from tests.webhook_harness import (
    dispatcher,
    dispatcher_env,
    free_port,
    kill,
    received,
    receiver,
    wait_for,
)


def admin(tenant: str) -> CommandContext:
    return CommandContext(
        Principal(tenant, "admin", frozenset({Role.TENANT_ADMIN})), "test"
    )


def make_events(container, ctx: CommandContext, orgs: int, renames: int) -> dict:
    """Register ``orgs`` organizations, rename each ``renames`` times; the
    event ids by aggregate, in version order."""
    service = container.services.organizations
    made: dict[str, list[int]] = defaultdict(list)
    ids = []
    for i in range(orgs):
        accepted = service.register_organization(
            ctx, RegisterOrganization(f"Hooked {i}", "GB")
        )
        ids.append(accepted.id)
        made[str(accepted.id)].append(accepted.position)
    for round_ in range(renames):
        for org in ids:
            accepted = service.rename_organization(
                ctx, RenameOrganization(org, f"Hooked {org.hex[:4]} {round_}")
            )
            made[str(org)].append(accepted.position)
    return made


def refused(container, ctx: CommandContext, created) -> bool:
    """Whether an attempt of the subscription was answered 503."""
    deliveries = container.services.webhooks.deliveries(
        ctx, created.subscription.subscription_id, None, 500
    )
    return any(a.status_code == 503 for d in deliveries for a in d.attempts)


def test_nothing_is_lost_or_reordered_through_a_killed_dispatcher_and_a_failing_receiver(  # noqa: E501
    pipeline, tmp_path
):
    container = pipeline
    tenant = f"hooks-{uuid.uuid4().hex[:8]}"
    ctx = admin(tenant)
    port = free_port()
    created = container.services.webhooks.subscribe(
        ctx, Subscribe(f"http://127.0.0.1:{port}/hooks")
    )
    out, fail, slow = tmp_path / "got.jsonl", tmp_path / "fail", tmp_path / "slow"
    env = dispatcher_env(container.settings, tmp_path)
    slow.touch()
    with receiver(
        port,
        [created.secret],
        "--out",
        str(out),
        "--fail-while",
        str(fail),
        "--delay-while",
        str(slow),
    ) as child:
        first = dispatcher(env)
        try:
            expected = make_events(container, ctx, orgs=4, renames=4)
            # the dispatcher is killed while a delivery is in flight
            assert child.stdout is not None
            assert child.stdout.readline().startswith("delaying")
            kill(first)
            slow.unlink()
            fail.touch()
            second = dispatcher(env)
            try:
                # once the lease of the killed attempts has passed, they are
                # sent again and refused for a while
                wait_for(lambda: refused(container, ctx, created), 30, "a 503 recorded")
                fail.unlink()
                total = sum(len(p) for p in expected.values())
                wait_for(
                    lambda: len({r["position"] for r in received(out)}) >= total,
                    60,
                    "every event delivered",
                )
            finally:
                kill(second)
        finally:
            kill(first)
    got = received(out)
    by_aggregate: dict[str, list[int]] = defaultdict(list)
    for r in got:
        by_aggregate[str(r["subject"])].append(int(str(r["position"])))
    assert set(by_aggregate) == set(expected)
    for aggregate, positions in expected.items():
        # A request abandoned by the killed dispatcher may still complete at
        # the receiver at any later time: at least once means duplicates,
        # which receivers drop by webhook-id (Standard Webhooks). What must
        # hold is the order of each event's first delivery.
        seen = list(dict.fromkeys(by_aggregate[aggregate]))
        assert seen == sorted(seen), f"{aggregate} reordered: {seen}"
        assert seen == positions, aggregate
    # every id is the event's CloudEvent id (what receivers deduplicate by)
    assert all(r["webhook_id"] == r["id"] for r in got)
    deliveries = container.services.webhooks.deliveries(
        ctx, created.subscription.subscription_id, None, 500
    )
    assert {d.state for d in deliveries} == {"delivered"}
    codes = {a.status_code for d in deliveries for a in d.attempts}
    assert 503 in codes, "the receiver's failures were recorded as attempts"


def test_a_subscription_failing_for_its_retry_window_is_paused_and_admins_mailed(
    pipeline,
):
    container = pipeline
    tenant = f"hooks-{uuid.uuid4().hex[:8]}"
    ctx = admin(tenant)
    with container.database.connection() as conn:
        conn.execute(
            "INSERT INTO identity_accounts (account_id, tenant_id, email, name,"
            " status, roles) VALUES (%s, %s, %s, 'Ada', 'active', '{tenant_admin}')",
            (uuid.uuid4(), tenant, f"ada@{tenant}.test"),
        )
    # nothing listens on this port: every attempt fails
    created = container.services.webhooks.subscribe(
        ctx, Subscribe(f"http://127.0.0.1:{free_port()}/hooks")
    )
    sid = created.subscription.subscription_id
    container.services.organizations.register_organization(
        ctx, RegisterOrganization("Never delivered", "GB")
    )
    queue = PostgresWebhooks(container.database, EVENTS_TABLE)
    sender = WebhookSender(
        queue,
        TargetPolicy(True),
        HttpTransport(1, 1024),
        RetryPolicy(0.1, 0.2, give_up_after_seconds=1.0),
        lease_seconds=3,
    )
    # a group of its own: the other test's killed member holds the main one
    fanout = container.webhook_fanout(sender.wake, group=f"test.{tenant}")
    stop = threading.Event()
    thread = threading.Thread(target=fanout.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: (
                sender.tick() >= 0
                and container.services.webhooks.subscription(ctx, sid).state == "paused"
            ),
            60,
            "the failing subscription paused",
        )
    finally:
        stop.set()
        thread.join(timeout=30)
        sender.close()
    paused = container.services.webhooks.subscription(ctx, sid)
    assert paused.paused_reason is not None
    with container.database.connection() as conn:
        mails = conn.execute(
            "SELECT recipient, body FROM notification_outbox WHERE tenant_id = %s",
            (tenant,),
        ).fetchall()
    assert [m[0] for m in mails] == [f"ada@{tenant}.test"]
    assert str(sid) in mails[0][1]
    # the delivery is kept pending for a resume: nothing is lost
    [delivery] = container.services.webhooks.deliveries(ctx, sid, None, 10)
    assert delivery.state == "pending"
    assert len(delivery.attempts) >= 2


def test_the_transport_connects_to_the_checked_address_and_follows_no_redirect():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append((self.path, self.headers.get("Host")))
            self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/elsewhere")
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * 100_000)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_port
        transport = HttpTransport(timeout_seconds=2, max_response_bytes=1024)
        # the name does not resolve: only the checked address is used
        ok = transport.post(
            Target("http", "hooks.invalid", port, "/in", "127.0.0.1"), {}, b"{}"
        )
        moved = transport.post(
            Target("http", "hooks.invalid", port, "/moved", "127.0.0.1"), {}, b"{}"
        )
    finally:
        server.shutdown()
        server.server_close()
    assert ok.ok
    assert not moved.ok
    assert moved.status_code == 302
    assert seen == [
        ("/in", f"hooks.invalid:{port}"),
        ("/moved", f"hooks.invalid:{port}"),
    ]
