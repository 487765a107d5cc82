"""One webhook POST to a checked address.

The connection goes to :attr:`Target.address` (the address the policy
checked), never to a second resolution of the name; TLS still verifies the
certificate for the host name (SNI and ``Host`` name it). Redirects are not
followed (a ``3xx`` is a failed attempt), the whole attempt is bounded by a
timeout, and at most ``max_response_bytes`` of the answer are read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
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


class _Connection(http.client.HTTPConnection):
    def __init__(
        self, target: Target, timeout: float, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target
        self._tls = tls

    def connect(self) -> None:
        sock = socket.create_connection(
            (self._target.address, self._target.port), self.timeout
        )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self._target.host)
        self.sock = sock


class HttpTransport:
    """Sends webhook POSTs.

    Args:
        timeout_seconds: Bound of one attempt (connect, send, read).
        max_response_bytes: How much of an answer is read at most.
        user_agent: The ``User-Agent`` header.
    """

    def __init__(
        self,
        timeout_seconds: float,
        max_response_bytes: int,
        user_agent: str = "AssureHub-Webhooks/1",
    ) -> None:
        self._timeout = timeout_seconds
        self._max = max_response_bytes
        self._agent = user_agent
        self._tls = ssl.create_default_context()

    def post(self, target: Target, headers: dict[str, str], body: bytes) -> Outcome:
        """POST ``body`` to ``target``; never raises for the target's faults."""
        started = time.monotonic()
        tls = self._tls if target.scheme == "https" else None
        conn = _Connection(target, self._timeout, tls)
        status: int | None = None
        error: str | None = None
        try:
            conn.request(
                "POST",
                target.path,
                body=body,
                headers={
                    **headers,
                    "Content-Type": "application/cloudevents+json",
                    "User-Agent": self._agent,
                    "Connection": "close",
                },
            )
            response = conn.getresponse()
            status = response.status
            response.read(self._max)
            if status >= 300:
                error = f"answered {status} {response.reason}"[:200]
            if time.monotonic() - started > self._timeout:
                status, error = None, f"no answer within {self._timeout} s"
        except (OSError, http.client.HTTPException) as e:
            error = f"{type(e).__name__}: {e}"[:500]
        finally:
            conn.close()
        return Outcome(status, error, int((time.monotonic() - started) * 1000))
