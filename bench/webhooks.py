"""Webhook delivery lag: event recorded → signed POST received.

"200 events/s to 100 subscriptions" is read as: 100 tenants each hold one
webhook subscription (every event type) to one receiver process on
loopback, and events are recorded at 200/s round robin over the tenants, so
each event is owed to one subscription: 200 signed POSTs/s. ``assurehub
relay`` and ``assurehub webhooks`` run as their own processes with the
default settings. The lag of an event is from its store timestamp to the
moment the receiver got its POST (relay, Kafka, fan-out transaction, claim,
sign, POST), and is split into those stages from the queue's own
timestamps. Beside it, in the same run: a bare HTTP POST loop at the same
rate to the same receiver over kept-alive connections (as the dispatcher
sends), timed from just before the request to its receipt.

The harder reading, every event to all 100 subscriptions of one tenant
(200 events/s would be 20,000 POSTs/s), is measured as a saturation figure:
``events`` events recorded at 200/s to one tenant with 100 subscriptions,
the POSTs per second the dispatcher sustains until all are received, beside
a bare POST loop sending as many POSTs as fast as it can with the
dispatcher's concurrency.

``python -m bench.webhooks receive PORT`` is the receiver: it prints
``<id> <received at> <event time>`` per POST and answers 204.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.lag import _paced
from bench.processes import free_port, process_env
from commands.context import CommandContext
from commands.organizations import RegisterOrganization
from commands.webhooks import Subscribe
from domain.principal import Principal, Role
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings

SUBSCRIPTIONS = 100

STAGES = (
    "recorded → delivery row (relay, Kafka, fan-out)",
    "delivery row → attempt started (claim)",
    "attempt started → received (sign, POST)",
    "received → outcome recorded",
)


def _receive(port: int) -> None:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received = time.time()
            event = json.loads(body)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with lock:
                print(event["id"], received, event["time"], flush=True)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the listen backlog of common servers
        daemon_threads = True

    server = Server(("127.0.0.1", port), Handler)
    print("listening", flush=True)
    server.serve_forever()


@dataclass
class Received:
    """What the receiver got: each id's first receipt, and every receipt."""

    first: dict[str, tuple[float, float]] = field(default_factory=dict)
    count: int = 0
    last: float = 0.0


@contextmanager
def _receiver(port: int) -> Iterator[Received]:
    got = Received()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.webhooks", "receive", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "listening"

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            ident, received, event_time = line.split()
            if "T" in event_time:
                sent = datetime.fromisoformat(event_time).timestamp()
            else:
                sent = float(event_time)
            got.first.setdefault(ident, (sent, float(received)))
            got.last = max(got.last, float(received))
            got.count += 1

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield got
    finally:
        child.terminate()
        child.wait(timeout=10)


def _admin(tenant: str) -> CommandContext:
    return CommandContext(
        Principal(tenant, "bench", frozenset({Role.TENANT_ADMIN})), "bench"
    )


@contextmanager
def _dispatching(settings: Settings) -> Iterator[None]:
    """``assurehub relay`` and ``assurehub webhooks`` as their own processes."""
    env = process_env(settings, free_port())
    procs = [
        subprocess.Popen([sys.executable, "-m", "processors.cli", role], env=env)
        for role in ("relay", "webhooks")
    ]
    try:
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def _record_paced(
    container: Container, rate: float, seconds: float, context: Callable[[int], object]
) -> int:
    """Register organizations at ``rate``/s for ``seconds``; how many."""
    service = container.services.organizations
    pool = ThreadPoolExecutor(max_workers=8)
    done: list[int] = []

    failed: list[str] = []

    def record(n: int) -> None:
        ctx = context(n)
        assert isinstance(ctx, CommandContext)
        try:
            service.register_organization(ctx, RegisterOrganization(f"Hook {n}", "SE"))
        except Exception as e:  # counted and shown below
            failed.append(f"{type(e).__name__}: {e}")
            return
        done.append(n)

    _paced(rate, seconds, lambda n: pool.submit(record, n))
    pool.shutdown(wait=True)
    if failed:
        print(f"({len(failed)} commands of the load failed, first: {failed[0]})")
    return len(done)


def delivery_lag(
    settings: Settings, rate: float, seconds: float
) -> tuple[list[float], dict[str, list[float]]]:
    """Milliseconds from each event's store time to its receipt (one
    subscription per tenant, 100 tenants), and the same split into
    :data:`STAGES`."""
    port = free_port()
    container = bootstrap(settings)
    try:
        with _receiver(port) as got:
            contexts = [_admin(f"bench-hooks-{i}") for i in range(SUBSCRIPTIONS)]
            for ctx in contexts:
                container.services.webhooks.subscribe(
                    ctx, Subscribe(f"http://127.0.0.1:{port}/in")
                )
            with _dispatching(settings):
                container.services.organizations.register_organization(
                    contexts[0], RegisterOrganization("warm-up", "SE")
                )
                _wait(lambda: len(got.first) >= 1, 90)
                got.first.clear()
                recorded = _record_paced(
                    container, rate, seconds, lambda n: contexts[n % SUBSCRIPTIONS]
                )
                _wait(lambda: len(got.first) >= recorded, 60)
            stages = _stages(container, got.first)
            lags = [(received - sent) * 1000 for sent, received in got.first.values()]
            return lags, stages
    finally:
        container.close()


@dataclass(frozen=True)
class Saturation:
    """Every event to all subscriptions of one tenant."""

    events: int
    posts: int
    seconds: float
    lags: list[float]

    @property
    def rate(self) -> float:
        """POSTs received per second."""
        return self.posts / self.seconds


def fanout_saturation(settings: Settings, events: int, rate: float) -> Saturation:
    """``events`` events recorded at ``rate``/s to one tenant with
    :data:`SUBSCRIPTIONS` subscriptions: how fast all the POSTs arrive."""
    port = free_port()
    container = bootstrap(settings)
    ctx = _admin("bench-hooks-fanout")
    try:
        with _receiver(port) as got:
            for i in range(SUBSCRIPTIONS):
                container.services.webhooks.subscribe(
                    ctx, Subscribe(f"http://127.0.0.1:{port}/in/{i}")
                )
            with _dispatching(settings):
                container.services.organizations.register_organization(
                    ctx, RegisterOrganization("warm-up", "SE")
                )
                _wait(lambda: got.count >= SUBSCRIPTIONS, 90)
                got.first.clear()
                got.count = 0
                started = time.time()
                recorded = _record_paced(container, rate, events / rate, lambda _: ctx)
                posts = recorded * SUBSCRIPTIONS
                _wait(lambda: got.count >= posts, 600)
            lags = [(received - sent) * 1000 for sent, received in got.first.values()]
            return Saturation(recorded, got.count, got.last - started, lags)
    finally:
        container.close()


def _stages(
    container: Container, got: dict[str, tuple[float, float]]
) -> dict[str, list[float]]:
    """Where each delivery's lag went, from the queue's own timestamps."""
    with container.database.connection() as conn:
        rows = conn.execute(
            "SELECT d.event_id, extract(epoch FROM d.created_at),"
            " extract(epoch FROM a.started_at), extract(epoch FROM d.delivered_at)"
            " FROM webhook_deliveries d JOIN webhook_attempts a"
            " ON a.delivery_id = d.delivery_id AND a.attempt = 1"
            " WHERE d.event_id = ANY(%s)",
            (list(got),),
        ).fetchall()
    out: dict[str, list[float]] = {name: [] for name in STAGES}
    for event_id, created, started, delivered in rows:
        sent, received = got[event_id]
        marks = [sent, float(created), float(started), received, float(delivered)]
        for name, a, b in zip(STAGES, marks, marks[1:], strict=False):
            out[name].append((b - a) * 1000)
    return out


def bare_post_loop(
    rate: float | None, seconds: float, posts: int = 0, workers: int = 16
) -> tuple[list[float], float]:
    """Milliseconds from starting a POST to its receipt over kept-alive
    connections, at ``rate``/s for ``seconds`` (or ``posts`` POSTs as fast
    as ``workers`` send them when ``rate`` is ``None``); and the POSTs
    received per second."""
    port = free_port()
    local = threading.local()
    with _receiver(port) as got:
        pool = ThreadPoolExecutor(max_workers=workers)
        sent = []

        def post(n: int) -> None:
            started = time.time()
            body = json.dumps({"id": f"bare-{n}", "time": str(started)}).encode()
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(
                    "127.0.0.1", port, timeout=10
                )
            conn.request("POST", "/in", body=body)
            conn.getresponse().read()
            sent.append(n)

        began = time.time()
        if rate is None:
            list(pool.map(post, range(posts)))
        else:
            _paced(rate, seconds, lambda n: pool.submit(post, n))
        pool.shutdown(wait=True)
        _wait(lambda: got.count >= len(sent), 30)
        lags = [(received - start) * 1000 for start, received in got.first.values()]
        return lags, got.count / (got.last - began)


def _wait(check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not done within {seconds} s")
        time.sleep(0.05)


if __name__ == "__main__":
    if sys.argv[1:2] == ["receive"]:
        _receive(int(sys.argv[2]))
    else:
        print("usage: python -m bench.webhooks receive PORT")
