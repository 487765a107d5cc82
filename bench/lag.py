"""End-to-end lag: command accepted → visible through the query API.

The API, relay and projectors run as their own processes (as deployed); a
load generator issues commands over HTTP at a fixed rate and, for each
accepted command, reads it back with ``min_position``. Beside it, in the same
run: a raw Kafka produce→consume round trip at the same rate (acks=all).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
from kafka import KafkaConsumer, KafkaProducer

from bench.processes import HEADERS, free_port, process_env, wait_live
from infra.settings import Settings
from infra.streaming import kafka

PROJECTORS = [sys.executable, "-m", "processors.cli", "projectors"]
PREVIOUS_PROJECTORS = [sys.executable, "-m", "bench.per_projection"]
"""The projector process of the previous code: one consumer per read model."""


@contextmanager
def backend(settings: Settings, projectors: list[str] | None = None) -> Iterator[str]:
    """API, relay and projectors as subprocesses; yields the API's base URL."""
    port = free_port()
    env = process_env(settings, port)
    procs = [
        subprocess.Popen([sys.executable, "-m", "processors.cli", role], env=env)
        for role in ("api", "relay")
    ]
    procs.append(subprocess.Popen(projectors or PROJECTORS, env=env))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_live(url, time.monotonic() + 60)
        yield url
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def _paced(rate: float, seconds: float, action: Callable[[int], object]) -> None:
    interval = 1.0 / rate
    start = time.perf_counter()
    n = 0
    while (now := time.perf_counter()) - start < seconds:
        target = start + n * interval
        if now < target:
            time.sleep(target - now)
        action(n)
        n += 1


def command_lag(
    settings: Settings,
    rate: float,
    seconds: float,
    projectors: list[str] | None = None,
) -> list[float]:
    """Milliseconds from a command's 201 to its read with min_position."""
    lags: list[float] = []
    failures: list[str] = []
    with (
        backend(settings, projectors) as url,
        httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client,
    ):
        # Warm up until the pipeline answers (consumer group joined).
        warm = client.post("/organizations", json={"name": "warm-up", "country": "SE"})
        for _ in range(12):  # each read waits up to the 5 s read bound
            r = client.get(
                f"/organizations/{warm.json()['id']}",
                params={"min_position": warm.json()["position"]},
            )
            if r.status_code == 200:
                break
        else:
            raise RuntimeError("the pipeline did not answer within a minute")
        pool = ThreadPoolExecutor(max_workers=64)
        lock = threading.Lock()
        local = threading.local()

        def session() -> httpx.Client:
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=url, headers=HEADERS, timeout=30)
            return local.client

        def cycle(n: int) -> None:
            http = session()
            r = http.post("/organizations", json={"name": f"Lag {n}", "country": "SE"})
            accepted_at = time.perf_counter()
            if r.status_code != 201:
                with lock:
                    failures.append(str(r.status_code))
                return
            body = r.json()
            read = http.get(
                f"/organizations/{body['id']}",
                params={"min_position": body["position"]},
            )
            done = time.perf_counter()
            with lock:
                if read.status_code == 200:
                    lags.append((done - accepted_at) * 1000)
                else:
                    failures.append(str(read.status_code))

        def send(n: int) -> None:
            pool.submit(cycle, n)

        _paced(rate, seconds, send)
        pool.shutdown(wait=True)
    if failures:
        print(f"  command lag: {len(failures)} failures: {sorted(set(failures))}")
    return lags


def kafka_round_trip(settings: Settings, rate: float, seconds: float) -> list[float]:
    """Milliseconds from produce to consume on a fresh topic (acks=all)."""
    topic = f"{settings.kafka_topic}.raw"
    kafka.ensure_topic(settings, topic)
    servers = settings.kafka_bootstrap_servers.split(",")
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=servers,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    while not consumer.assignment():
        consumer.poll(timeout_ms=100)
    producer = KafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=0)
    lags: list[float] = []
    expected = int(rate * seconds)
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set() and len(lags) < expected:
            for records in consumer.poll(timeout_ms=100).values():
                now = time.perf_counter()
                lags.extend((now - float(r.value.decode())) * 1000 for r in records)

    reader = threading.Thread(target=consume)
    reader.start()
    _paced(
        rate,
        seconds,
        lambda n: producer.send(
            topic, key=str(n).encode(), value=repr(time.perf_counter()).encode()
        ),
    )
    producer.flush()
    reader.join(timeout=30)
    stop.set()
    producer.close()
    consumer.close()
    return lags
