"""Webhook delivery lag: event recorded → signed POST received.

100 tenants each hold one webhook subscription to one receiver process on
loopback; events are recorded at a fixed rate, round robin over the tenants,
while ``assurehub relay`` and ``assurehub webhooks`` run as their own
processes. The lag of an event is from its store timestamp to the moment
the receiver got its POST. Beside it, in the same run: a bare HTTP POST loop
at the same rate to the same receiver (one connection per POST, as the
dispatcher makes), timed from just before the request to its receipt.

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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.lag import _env, _free_port, _paced
from commands.context import CommandContext
from commands.organizations import RegisterOrganization
from commands.webhooks import Subscribe
from domain.principal import Principal, Role
from infra.bootstrap import bootstrap
from infra.settings import Settings

SUBSCRIPTIONS = 100


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

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("listening", flush=True)
    server.serve_forever()


@contextmanager
def _receiver(port: int) -> Iterator[dict[str, tuple[float, float]]]:
    got: dict[str, tuple[float, float]] = {}
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
            got.setdefault(ident, (sent, float(received)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield got
    finally:
        child.terminate()
        child.wait(timeout=10)


def delivery_lag(settings: Settings, rate: float, seconds: float) -> list[float]:
    """Milliseconds from each event's store time to its receipt."""
    port = _free_port()
    container = bootstrap(settings)
    contexts = []
    try:
        with _receiver(port) as got:
            for i in range(SUBSCRIPTIONS):
                ctx = CommandContext(
                    Principal(
                        f"bench-hooks-{i}", "bench", frozenset({Role.TENANT_ADMIN})
                    ),
                    "bench",
                )
                container.services.webhooks.subscribe(
                    ctx, Subscribe(f"http://127.0.0.1:{port}/in")
                )
                contexts.append(ctx)
            env = _env(settings, _free_port())
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "processors.cli", role], env=env
                )
                for role in ("relay", "webhooks")
            ]
            try:
                service = container.services.organizations
                warm = service.register_organization(
                    contexts[0], RegisterOrganization("warm-up", "SE")
                )
                _wait(lambda: len(got) >= 1, 90)
                assert len(got) == 1, warm
                got.clear()
                pool = ThreadPoolExecutor(max_workers=8)
                ids: list[str] = []

                def record(n: int) -> None:
                    service.register_organization(
                        contexts[n % SUBSCRIPTIONS],
                        RegisterOrganization(f"Hook {n}", "SE"),
                    )
                    ids.append(str(n))

                _paced(rate, seconds, lambda n: pool.submit(record, n))
                pool.shutdown(wait=True)
                _wait(lambda: len(got) >= len(ids), 60)
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.wait(timeout=30)
            return [(received - sent) * 1000 for sent, received in got.values()]
    finally:
        container.close()


def bare_post_loop(rate: float, seconds: float) -> list[float]:
    """Milliseconds from starting a POST to its receipt, at ``rate``/s."""
    port = _free_port()
    with _receiver(port) as got:
        pool = ThreadPoolExecutor(max_workers=16)
        sent = []

        def post(n: int) -> None:
            started = time.time()
            body = json.dumps({"id": f"bare-{n}", "time": str(started)}).encode()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("POST", "/in", body=body, headers={"Connection": "close"})
                conn.getresponse().read()
            finally:
                conn.close()
            sent.append(n)

        _paced(rate, seconds, lambda n: pool.submit(post, n))
        pool.shutdown(wait=True)
        _wait(lambda: len(got) >= len(sent), 30)
        return [(received - start) * 1000 for start, received in got.values()]


def _wait(check, seconds: float) -> None:
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
