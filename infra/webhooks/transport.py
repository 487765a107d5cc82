"""One webhook POST to a checked address, over kept-alive connections.

The connection goes to :attr:`Target.address` (the address the policy
checked for this attempt), never to a second resolution of the name; TLS
still verifies the certificate for the host name (SNI and ``Host`` name it).
Redirects are not followed (a ``3xx`` is a failed attempt), the whole
attempt is bounded by a timeout, and at most ``max_response_bytes`` of the
answer are read.

Connections are kept alive and reused, idle ones pooled per (scheme, host,
port, checked address): a connection is only ever reused for an attempt
whose target resolved, and was checked, to the very address it is connected
to, so a name that now resolves elsewhere gets a new connection to the newly
checked address. A connection is pooled again only when its answer was read
to the end within the size limit and the receiver did not ask to close it;
one idle for ``idle_seconds`` or that the receiver closed meanwhile is
dropped. A request that fails on a reused connection before any answer (the
receiver closed it as it was reused) is sent once more on a new one, within
what is left of the attempt's timeout: at least once, so a receiver may see
it twice and drops it by ``webhook-id``.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from infra.webhooks.targets import Target


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status, or the error that prevented one."""

    status_code: int | None
    error: str | None
    latency_ms: int

    @property
    def ok(self) -> bool:
        """Delivered: a ``2xx`` answer."""
        return self.status_code is not None and 200 <= self.status_code < 300


_Key = tuple[str, str, int, str]


class _Connection(http.client.HTTPConnection):
    def __init__(
        self, target: Target, timeout: float, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target
        self._tls = tls
        self.idle_since = 0.0

    def connect(self) -> None:
        sock = socket.create_connection(
            (self._target.address, self._target.port), self.timeout
        )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self._target.host)
        self.sock = sock

    def closed_by_peer(self) -> bool:
        """Whether the receiver closed it (or sent something unasked)."""
        if self.sock is None:
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)


def _closed_on_reuse(error: Exception) -> bool:
    """Whether ``error`` is a kept-alive connection the receiver had closed
    (not a timeout nor an answer it gave)."""
    return isinstance(error, (ConnectionError, http.client.BadStatusLine))


def _key(target: Target) -> _Key:
    return (target.scheme, target.host, target.port, target.address)


class HttpTransport:
    """Sends webhook POSTs.

    Args:
        timeout_seconds: Bound of one attempt (connect, send, read).
        max_response_bytes: How much of an answer is read at most.
        user_agent: The ``User-Agent`` header.
        idle_seconds: How long an idle connection is kept for reuse.
        idle_per_target: How many idle connections are kept per target.
    """

    def __init__(
        self,
        timeout_seconds: float,
        max_response_bytes: int,
        user_agent: str = "AssureHub-Webhooks/1",
        idle_seconds: float = 4.0,
        idle_per_target: int = 32,
    ) -> None:
        self._timeout = timeout_seconds
        self._max = max_response_bytes
        self._agent = user_agent
        self._tls = ssl.create_default_context()
        self._idle_seconds = idle_seconds
        self._idle_max = idle_per_target
        self._idle: dict[_Key, list[_Connection]] = {}
        self._lock = threading.Lock()

    def post(self, target: Target, headers: dict[str, str], body: bytes) -> Outcome:
        """POST ``body`` to ``target``; never raises for the target's faults."""
        started = time.monotonic()
        reused = self._checkout(target)
        if reused is not None:
            outcome = self._send(reused, target, headers, body, started)
            if outcome is not None:
                return outcome
        tls = self._tls if target.scheme == "https" else None
        remaining = self._timeout - (time.monotonic() - started)
        fresh = _Connection(target, max(remaining, 0.001), tls)
        outcome = self._send(fresh, target, headers, body, started, last=True)
        assert outcome is not None
        return outcome

    def _send(
        self,
        conn: _Connection,
        target: Target,
        headers: dict[str, str],
        body: bytes,
        started: float,
        last: bool = False,
    ) -> Outcome | None:
        """One request on ``conn``; ``None`` when a reused connection failed
        before any answer (the caller tries a new one)."""
        status: int | None = None
        error: str | None = None
        keep = False
        try:
            conn.request(
                "POST",
                target.path,
                body=body,
                headers={
                    **headers,
                    "Content-Type": "application/cloudevents+json",
                    "User-Agent": self._agent,
                },
            )
            response = conn.getresponse()
            status = response.status
            response.read(self._max)
            keep = response.isclosed() and not response.will_close
            if status >= 300:
                error = f"answered {status} {response.reason}"[:200]
            if time.monotonic() - started > self._timeout:
                status, error, keep = None, f"no answer within {self._timeout} s", False
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            if not last and status is None and _closed_on_reuse(e):
                return None
            error = f"{type(e).__name__}: {e}"[:500]
        if keep:
            self._checkin(target, conn)
        else:
            conn.close()
        return Outcome(status, error, int((time.monotonic() - started) * 1000))

    def _checkout(self, target: Target) -> _Connection | None:
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(_key(target), [])
            while idle:
                conn = idle.pop()
                if now - conn.idle_since < self._idle_seconds:
                    break
                conn.close()
            else:
                return None
        if conn.closed_by_peer():
            conn.close()
            return None
        return conn

    def _checkin(self, target: Target, conn: _Connection) -> None:
        conn.idle_since = time.monotonic()
        with self._lock:
            idle = self._idle.setdefault(_key(target), [])
            if len(idle) < self._idle_max:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()
