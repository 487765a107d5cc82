"""The metrics endpoint: ``GET /metrics`` on its own port.

Every process runs a :class:`MetricsServer` thread. It samples the process's
own gauges (its Postgres pool) every few seconds and tries to hold the
metrics port: the one that holds it serves every process's instruments (the
multiprocess directory) and the pipeline's state read from Postgres; the
others retry, so when the holder stops another takes the port over within a
few seconds. The port is bound to ``ASSUREHUB_METRICS_HOST`` (loopback by
default) and is never part of the public API.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.registry import Collector

from infra.metrics.files import DirectoryCollector
from infra.metrics.instruments import directory, instruments

log = logging.getLogger(__name__)


def exposition_registry(state: Collector | None) -> CollectorRegistry:
    """What a scrape answers: every process's instruments, and ``state``."""
    registry = CollectorRegistry()
    folder = directory()
    if folder is not None:
        registry.register(DirectoryCollector(folder))
    else:
        own = instruments().registry
        if own is not None:
            registry.register(_Delegate(own))
    if state is not None:
        registry.register(state)
    return registry


class _Delegate(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Any:
        return self._registry.collect()


class MetricsServer:
    """Samples this process's gauges and serves the metrics when it holds
    the port (``port`` 0: sample only, never serve)."""

    def __init__(
        self,
        host: str,
        port: int,
        state: Collector | None,
        pool_stats: Callable[[], dict[str, int]],
        interval_seconds: float = 5.0,
    ) -> None:
        self.host, self.port = host, port
        self._state = state
        self._pool_stats = pool_stats
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: Any = None

    @property
    def serving(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="metrics", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            if self.port and self._server is None:
                self._try_to_serve()
            self._stop.wait(self._interval)

    def sample(self) -> None:
        """Record this process's pool use."""
        try:
            stats = self._pool_stats()
        except Exception:
            log.debug("metrics: pool stats unavailable", exc_info=True)
            return
        gauge = instruments().pool
        for state, value in stats.items():
            gauge.labels(state).set(value)

    def _try_to_serve(self) -> None:
        try:
            server, _ = start_http_server(
                self.port, self.host, exposition_registry(self._state)
            )
        except OSError:
            return  # another process holds the port; try again later
        self._server = server
        log.info(
            "serving metrics",
            extra={"address": f"{self.host}:{self.port}", "pid": os.getpid()},
        )

    def close(self) -> None:
        """Stop sampling and serving (the port is free for another)."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def forget_process() -> None:
    """Drop this process's live gauges from the directory (at exit)."""
    folder = directory()
    if folder is not None:
        prometheus_multiprocess.mark_process_dead(os.getpid(), str(folder))  # type: ignore[no-untyped-call]
