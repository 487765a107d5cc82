"""HTTP commands per second at 16 connections, beside the framework's floor.

Issue 17 asks for single-event HTTP commands at 16 connections from a load
generator in its own process (asyncio), beside a bare route in the same run.
:func:`run` starts ``assurehub api`` (the real entry point, development
headers on) with 1 and then 2 worker processes and, for each, runs
``python -m bench.api`` as the load generator: one asyncio loop,
an ``aiohttp`` client session with a pool of ``connections`` keep-alive
connections and as many closed-loop clients (``httpx.AsyncClient`` cost the
generator about three times the CPU per request). It measures the bare route
(``GET /health/live``) and the command (``POST /organizations``, one event
appended per request) in turn against the same server. A last row runs the
same command through the event store alone (threads, no HTTP): with the
store's table lock, that is the most any number of API workers can reach.

Pinning, on a machine with at least two CPUs (``taskset``): the generator on
the first CPU; one worker on the second; two workers on every CPU (pinning
two workers to one core would measure one core). Postgres, Redis and Kafka are
never pinned.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import percentile
from bench.processes import free_port, process_env, wait_live
from bench.throughput import event_store_rate
from infra.settings import Settings

HEADERS = {
    "X-Dev-Tenant": "bench-api",
    "X-Dev-Actor": "bench",
    "X-Dev-Roles": "tenant_admin",
}
STORE_ALONE = "register_organization through the event store alone"
FLOOR = ("GET", "/health/live")
COMMAND = ("POST", "/organizations")


@dataclass(frozen=True)
class Row:
    """One measured target."""

    target: str
    workers: int
    connections: int
    n: int
    per_second: float
    p50: float
    p99: float
    generator_cpu: float
    """The generator's CPU time over the timed wall time (1.0 = a full core)."""


def _cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def _taskset(cpus: list[int]) -> list[str]:
    """``taskset -c`` prefix, or nothing where it cannot pin."""
    if not cpus or shutil.which("taskset") is None or len(_cpus()) < 2:
        return []
    return ["taskset", "-c", ",".join(map(str, cpus))]


@contextmanager
def serve(settings: Settings, workers: int, cpus: list[int]) -> Iterator[str]:
    """``assurehub api`` with ``workers`` processes on a free loopback port."""
    port = free_port()
    with tempfile.TemporaryDirectory() as metrics:
        env = process_env(settings, port)
        env.update(
            {
                "ASSUREHUB_API_WORKERS": str(workers),
                "ASSUREHUB_METRICS_PORT": str(free_port()),
                "ASSUREHUB_METRICS_DIR": metrics,
            }
        )
        assurehub = str(Path(sys.executable).with_name("assurehub"))
        process = subprocess.Popen([*_taskset(cpus), assurehub, "api"], env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_live(url, time.monotonic() + 60, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def measure(
    url: str, target: tuple[str, str], connections: int, requests: int, cpu: list[int]
) -> tuple[list[float], float, float]:
    """Run the generator in its own (pinned) process: latencies (ms), wall
    seconds and generator CPU seconds of the timed phase."""
    spec = {
        "url": url,
        "method": target[0],
        "path": target[1],
        "connections": connections,
        "per_connection": max(1, requests // connections),
        "warmup": max(5, requests // connections // 10),
    }
    with tempfile.TemporaryDirectory() as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_file.write_text(json.dumps(spec))
        command = [sys.executable, "-m", "bench.api", str(spec_file), str(out_file)]
        subprocess.run([*_taskset(cpu), *command], check=True)
        out = json.loads(out_file.read_text())
    return out["ms"], out["seconds"], out["cpu"]


def run(
    settings: Settings,
    requests: int,
    connections: int = 16,
    workers: tuple[int, ...] = (1, 2),
) -> tuple[list[Row], list[str]]:
    """The floor and the command at ``connections``, for each worker count."""
    cpus = _cpus()
    generator = cpus[:1] if len(cpus) >= 2 else []
    rows: list[Row] = []
    notes = [
        f"load generator: aiohttp, {connections} keep-alive connections,"
        f" one asyncio loop, pinned with taskset to CPU {generator or 'none'}"
    ]
    for count in workers:
        server = cpus[1:2] if count == 1 and len(cpus) >= 2 else cpus
        notes.append(f"{count} worker(s): API pinned to CPUs {server}")
        with serve(settings, count, server) as url:
            for name, target in (("floor", FLOOR), ("command", COMMAND)):
                ms, seconds, cpu = measure(
                    url, target, connections, requests, generator
                )
                label = f"{target[0]} {target[1]} ({name})"
                rows.append(
                    Row(
                        label,
                        count,
                        connections,
                        len(ms),
                        len(ms) / seconds,
                        percentile(ms, 50),
                        percentile(ms, 99),
                        cpu / seconds,
                    )
                )
    store = event_store_rate(settings, connections, requests)
    rows.append(Row(STORE_ALONE, 0, connections, requests, store, 0.0, 0.0, 0.0))
    notes.append(
        f"{STORE_ALONE}: {connections} threads of this process calling the"
        " command service as the route does (no HTTP; not pinned), the bound"
        " today's store puts on any number of API workers"
    )
    return rows, notes


# -- the load generator (its own process) ------------------------------------


def _body(method: str) -> bytes | None:
    if method == "GET":
        return None
    name = f"Bench {uuid.uuid4().hex[:12]}"
    return json.dumps({"name": name, "country": "GB"}).encode()


async def _client(
    session: aiohttp.ClientSession, method: str, url: str, count: int
) -> list[float]:
    done: list[float] = []
    headers = {**HEADERS, "Content-Type": "application/json"}
    for _ in range(count):
        body = _body(method)
        started = time.perf_counter()
        async with session.request(method, url, data=body, headers=headers) as r:
            text = await r.read()
        ms = (time.perf_counter() - started) * 1000
        if r.status >= 300:
            raise RuntimeError(f"{method} {url}: {text[:300]!r}")
        done.append(ms)
    return done


async def _generate(spec: dict[str, Any]) -> dict[str, Any]:
    n = spec["connections"]
    connector = aiohttp.TCPConnector(limit=n)
    async with aiohttp.ClientSession(connector=connector) as session:
        method, url = spec["method"], spec["url"] + spec["path"]
        await asyncio.gather(
            *(_client(session, method, url, spec["warmup"]) for _ in range(n))
        )
        cpu, started = time.process_time(), time.perf_counter()
        results = await asyncio.gather(
            *(_client(session, method, url, spec["per_connection"]) for _ in range(n))
        )
        seconds = time.perf_counter() - started
        return {
            "ms": [m for r in results for m in r],
            "seconds": seconds,
            "cpu": time.process_time() - cpu,
        }


def _main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api")
    parser.add_argument("spec", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    out = asyncio.run(_generate(json.loads(args.spec.read_text())))
    args.out.write_text(json.dumps(out))


if __name__ == "__main__":
    _main(sys.argv[1:])
