"""The webhook transport keeps connections alive: a second POST to the same
checked address reuses the connection, one to another checked address for
the same host name does not, an answer beyond the size limit or a receiver
that closed the connection means a new one, and nothing is sent twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from infra.webhooks.targets import Target
from infra.webhooks.transport import HttpTransport


@contextmanager
def server() -> Iterator[tuple[int, list[tuple[str, str, int]]]]:
    """An HTTP/1.1 receiver on every loopback address; yields its port and
    (path, address connected to, client port) per request."""
    seen: list[tuple[str, str, int]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            to = self.connection.getsockname()[0]
            seen.append((self.path, to, self.client_address[1]))
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b"x" * 100_000 if self.path == "/big" else b""
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            # closes without saying so beforehand
            self.close_connection = self.path == "/hang-up"

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("0.0.0.0", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd.server_port, seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def target(port: int, path: str, address: str = "127.0.0.1") -> Target:
    return Target("http", "hooks.invalid", port, path, address)


def test_a_connection_is_reused_only_for_the_same_checked_address():
    transport = HttpTransport(timeout_seconds=2, max_response_bytes=1024)
    with server() as (port, seen):
        outcomes = [
            transport.post(target(port, "/1"), {}, b"{}"),
            transport.post(target(port, "/2"), {}, b"{}"),
            transport.post(target(port, "/3", address="127.0.0.2"), {}, b"{}"),
        ]
        transport.close()
    assert all(o.ok for o in outcomes)
    (_, a1, p1), (_, a2, p2), (_, a3, p3) = seen
    assert (a1, p1) == (a2, p2), "the second POST went over the kept connection"
    assert (a3, p3) != (a1, p1)
    assert a3 == "127.0.0.2", "connected to the address that was checked"


def test_a_connection_is_not_reused_after_a_big_answer_or_a_hang_up():
    transport = HttpTransport(timeout_seconds=2, max_response_bytes=1024)
    with server() as (port, seen):
        outcomes = [
            transport.post(target(port, path), {}, b"{}")
            for path in ("/big", "/after-big", "/hang-up", "/after-hang-up")
        ]
        transport.close()
    assert all(o.ok for o in outcomes)
    assert [path for path, _, _ in seen] == [
        "/big",
        "/after-big",
        "/hang-up",
        "/after-hang-up",
    ], "each sent once"
    ports = [client_port for _, _, client_port in seen]
    assert ports[0] != ports[1], "an answer beyond the limit closes the connection"
    assert ports[2] != ports[3], "a closed connection is not reused"
