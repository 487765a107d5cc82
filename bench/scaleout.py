"""One versus two processes of each kind (API, relay candidate, projectors).

For each count, on a fresh database and topic, the processes start as
deployed (``processors.cli``); a closed loop of client threads, spread over
the APIs, issues a command and reads it back with ``min_position`` for a
fixed time. Reported per count: commands per second carried end to end and
the lag from a command's 201 to its read (ms). Only one relay publishes at
a time, so a second candidate adds availability, not throughput.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

from bench.common import percentile, reset_database
from bench.processes import HEADERS, pipeline
from infra.settings import Settings


@dataclass(frozen=True)
class Row:
    """One count's figures."""

    processes: int
    clients: int
    seconds: float
    lags: list[float]
    failures: int

    @property
    def per_second(self) -> float:
        return len(self.lags) / self.seconds

    def p(self, q: float) -> float:
        return percentile(self.lags, q) if self.lags else float("nan")


def closed_loop(urls: list[str], clients: int, seconds: float) -> Row:
    """``clients`` threads, client i on API ``i % len(urls)``, each looping
    command → read with ``min_position`` for ``seconds``."""
    lags: list[float] = []
    failures = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        url = urls[i % len(urls)]
        with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as http:
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                r = http.post(
                    "/organizations", json={"name": f"Scale {i}.{n}", "country": "SE"}
                )
                accepted = time.perf_counter()
                if r.status_code != 201:
                    with lock:
                        failures[0] += 1
                    continue
                body = r.json()
                read = http.get(
                    f"/organizations/{body['id']}",
                    params={"min_position": body["position"]},
                )
                with lock:
                    if read.status_code == 200:
                        lags.append((time.perf_counter() - accepted) * 1000)
                    else:
                        failures[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Row(len(urls), clients, time.perf_counter() - started, lags, failures[0])


def run(
    settings: Settings, clients: int, seconds: float, counts: tuple[int, ...] = (1, 2)
) -> list[Row]:
    """A row per count of processes of each kind, each on a fresh store."""
    rows = []
    for n in counts:
        fresh = settings.model_copy(
            update={"kafka_topic": f"{settings.kafka_topic}.x{n}"}
        )
        reset_database(fresh)
        with pipeline(fresh, apis=n, relays=n, projectors=n) as running:
            rows.append(closed_loop(running.urls, clients, seconds))
    return rows
