"""The deployed process kinds (API, relay, projectors) as subprocesses, any
number of each, for benchmarks that start, kill and restart them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from infra.projection.registry import READ_MODELS
from infra.settings import Settings

HEADERS = {
    "X-Dev-Tenant": "bench",
    "X-Dev-Actor": "bench",
    "X-Dev-Roles": "tenant_admin",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_live(
    url: str, deadline: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Until the API at ``url`` answers ``/health/live`` (by ``deadline``,
    a ``time.monotonic()`` value; and while ``process``, if given, runs)."""
    while True:
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or (process and process.poll() is not None):
            raise RuntimeError(f"API at {url} did not start")
        time.sleep(0.2)


def process_env(settings: Settings, port: int) -> dict[str, str]:
    """The environment of a process of the pipeline on ``settings``."""
    env = dict(os.environ)
    env.update(
        {
            "ASSUREHUB_ENV": "development",
            "ASSUREHUB_DATABASE_URL": str(settings.database_url),
            "ASSUREHUB_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "ASSUREHUB_KAFKA_TOPIC": settings.kafka_topic,
            "ASSUREHUB_REDIS_URL": settings.redis_url,
            "ASSUREHUB_API_PORT": str(port),
            "ASSUREHUB_LOG_LEVEL": "WARNING",
            "ASSUREHUB_LOG_FORMAT": "text",
        }
    )
    return env


class Pipeline:
    """Named subprocesses of ``processors.cli``; ``urls`` of the APIs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.urls: list[str] = []

    def start(self, name: str, role: str) -> None:
        port = free_port()
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "processors.cli", role],
            env=process_env(self.settings, port),
        )
        if role == "api":
            self.urls.append(f"http://127.0.0.1:{port}")

    def kill(self, name: str) -> None:
        """Stop ``name`` at once (SIGKILL), as a crash would."""
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def close(self) -> None:
        for p in self.procs.values():
            p.terminate()
        for p in self.procs.values():
            p.wait(timeout=30)
        self.procs.clear()

    def wait_live(self, seconds: float = 120.0) -> None:
        deadline = time.monotonic() + seconds
        for url in self.urls:
            wait_live(url, deadline)

    def wait_visible(self) -> None:
        """Until a command through each API reads back with its position
        (consumer groups joined, relay leading)."""
        for url in self.urls:
            with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
                warm = client.post(
                    "/organizations", json={"name": "warm-up", "country": "SE"}
                ).json()
                for _ in range(24):  # each read waits up to the 5 s read bound
                    r = client.get(
                        f"/organizations/{warm['id']}",
                        params={"min_position": warm["position"]},
                    )
                    if r.status_code == 200:
                        break
                else:
                    raise RuntimeError("the pipeline did not answer in two minutes")


@contextmanager
def pipeline(
    settings: Settings, apis: int = 1, relays: int = 1, projectors: int = 1
) -> Iterator[Pipeline]:
    """That many processes of each kind, started and live (APIs answering,
    the pipeline carrying a command through each)."""
    running = Pipeline(settings)
    try:
        for kind, count in (("api", apis), ("relay", relays)):
            for i in range(count):
                running.start(f"{kind}-{i + 1}", kind)
        for i in range(projectors):
            running.start(f"projectors-{i + 1}", "projectors")
        running.wait_live()
        running.wait_visible()
        yield running
    finally:
        running.close()


_BEHIND = """
SELECT count(*) FROM relay_partition_heads h
CROSS JOIN unnest(%(names)s::text[]) AS p(projection)
LEFT JOIN projection_tracking t
  ON t.projection = p.projection AND t.topic = h.topic AND t.partition = h.partition
WHERE h.topic = %(topic)s AND COALESCE(t.position, 0) < h.position
"""
"""Partitions of read models behind the relay's last published position."""


def behind_query(topic: str) -> tuple[str, dict[str, object]]:
    """The query counting (read model, partition) pairs behind the relay."""
    return _BEHIND, {"names": [p.name for p in READ_MODELS], "topic": topic}
