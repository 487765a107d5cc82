"""The 50-connection load generator of the audit list query, one core.

Issue 4 asks for the list query "at 50 concurrent connections with the load
generator pinned to one core where possible". :func:`measure` runs
``python -m bench.concurrent_load`` as its own process, pinned with
``os.sched_setaffinity`` to one core (the bench pins the API server to the
other), where one asyncio loop drives ``connections`` closed-loop clients at
once: each over its own keep-alive HTTP/1.1 connection (asyncio streams)
for the real app and the floor, over as many psycopg async connections for
the SQL alone (replaying the statements the API answered).
Each client first warms up, then times its requests; the process reports
every sample, the wall time of the timed phase and its own CPU use (a
generator near 100 % of its core limits what it can measure).
:func:`measure_connections` measures the app, the floor and the SQL alone
that way for :func:`bench.list_query.run`, on servers started for it and
pinned to the other core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg

from bench.common import pin
from bench.list_query import (
    HEADERS,
    MAX_NEXT_PAGES,
    MIX,
    Draw,
    Report,
    Sample,
    Stats,
    _by_variant,
    _ms,
    compiled,
    serve,
)
from infra.settings import Settings


@dataclass(frozen=True)
class Run:
    """What one pinned run measured."""

    samples: list[Sample]
    seconds: float
    cpu_share: float
    """CPU time of the generator over the timed phase's wall time (1.0 = its
    core was busy all the time)."""
    pinned: list[int]


class _Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams (the least client
    work per request: ``httpx.AsyncClient``'s pool, shared by 50 clients, cost
    this one-core generator more than the server it measured)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        head = {"Host": parts.netloc, **HEADERS}
        self._head = "".join(f"{k}: {v}\r\n" for k, v in head.items())
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        """``GET path?params``: the status and the body."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(*self._address)
        reader, writer = self._streams
        target = f"{path}?{urlencode(params)}" if params else path
        writer.write(f"GET {target} HTTP/1.1\r\n{self._head}\r\n".encode())
        status = int((await reader.readline()).split()[1])
        length, chunked = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        if not chunked:
            return status, await reader.readexactly(length)
        body = bytearray()
        while size := int((await reader.readline()).split(b";")[0], 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readline()
        return status, bytes(body)

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()


async def _api_client(
    conn: _Connection, path: str, draw: Draw | None, seed: int, count: int
) -> list[Sample]:
    """``count`` requests back to back (the mix of :mod:`bench.list_query`, or
    the constant page when ``draw`` is None)."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    while len(samples) < count:
        variant = rng.choice(MIX) if draw else "floor"
        params, page = (draw(variant, rng) if draw else {}), 0
        while len(samples) < count:
            started = time.perf_counter()
            status, body = await conn.get(path, params)
            ms = (time.perf_counter() - started) * 1000
            if status != 200:
                raise RuntimeError(f"GET {path} {params}: {body[:300]!r}")
            samples.append(Sample(variant, page, params, ms))
            if draw is None or page == MAX_NEXT_PAGES or rng.random() < 0.5:
                break
            cursor = json.loads(body)["next_cursor"]
            if cursor is None:
                break
            params, page = {**params, "cursor": cursor}, page + 1
    return samples


async def _sql_client(
    conn: psycopg.AsyncConnection[Any], script: list[Sample]
) -> list[Sample]:
    done = []
    for sample in script:
        composed, values = compiled(sample.params)
        started = time.perf_counter()
        cur = await conn.execute(composed, values)
        await cur.fetchall()
        ms = (time.perf_counter() - started) * 1000
        done.append(Sample(sample.variant, sample.page, sample.params, ms))
    return done


async def _timed(clients: list[Any]) -> tuple[list[Sample], float, float]:
    cpu, started = time.process_time(), time.perf_counter()
    results = await asyncio.gather(*clients)
    seconds = time.perf_counter() - started
    return [s for r in results for s in r], seconds, (time.process_time() - cpu)


async def _http(spec: dict[str, Any]) -> tuple[list[Sample], float, float]:
    n, per, warm = spec["connections"], spec["per_connection"], spec["warmup"]
    draw = Draw(spec["organizations"]) if spec["kind"] == "api" else None
    path = "/audits" if draw else "/floor"
    conns = [_Connection(spec["target"]) for _ in range(n)]
    try:
        await asyncio.gather(
            *(_api_client(c, path, draw, 1000 + i, warm) for i, c in enumerate(conns))
        )
        return await _timed(
            [_api_client(c, path, draw, i, per) for i, c in enumerate(conns)]
        )
    finally:
        for conn in conns:
            conn.close()


async def _sql(spec: dict[str, Any]) -> tuple[list[Sample], float, float]:
    scripts = [[Sample(**s) for s in script] for script in spec["scripts"]]
    conns = [
        await psycopg.AsyncConnection.connect(spec["target"], autocommit=True)
        for _ in scripts
    ]
    try:
        warm = spec["warmup"]
        await asyncio.gather(
            *(_sql_client(c, s[:warm]) for c, s in zip(conns, scripts, strict=True))
        )
        return await _timed(
            [_sql_client(c, s) for c, s in zip(conns, scripts, strict=True)]
        )
    finally:
        for conn in conns:
            await conn.close()


def measure(spec: dict[str, Any], cpu: int | None) -> Run:
    """Run the generator described by ``spec`` in its own process on ``cpu``.

    ``spec``: ``kind`` (``api``, ``floor`` or ``sql``), ``target`` (base URL or
    DSN), ``connections``, ``per_connection`` and ``warmup`` requests per
    connection, ``organizations`` (api) or ``scripts`` (sql: one list of
    samples per connection, replayed as they are).
    """
    with tempfile.TemporaryDirectory() as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_file.write_text(json.dumps(spec))
        command = [sys.executable, "-m", "bench.concurrent_load", str(spec_file)]
        command += [str(out_file), *(["--cpu", str(cpu)] if cpu is not None else [])]
        subprocess.run(command, check=True)
        out = json.loads(out_file.read_text())
    samples = [Sample(**s) for s in out["samples"]]
    return Run(samples, out["seconds"], out["cpu"] / out["seconds"], out["pinned"])


def _cpus() -> tuple[int | None, int | None]:
    """(load generator's CPU, servers' CPU): the two first of this process's
    CPUs, or no pinning on a one-CPU machine."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)


def measure_connections(
    settings: Settings,
    report: Report,
    draw: Draw,
    page_bytes: bytes,
    connections: int,
    requests: int,
) -> None:
    """API, floor and SQL alone at ``connections`` concurrent connections from
    one asyncio load generator pinned to one CPU, servers pinned to another."""
    generator_cpu, server_cpu = _cpus()
    pin = ["--cpu", str(server_cpu)] if server_cpu is not None else []
    per = max(1, requests // connections)
    spec: dict[str, Any] = {"connections": connections, "per_connection": per}
    spec["warmup"] = max(5, per // 5)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.json"
        page.write_bytes(page_bytes)
        with serve(settings, "api", *pin) as api:
            runs = {
                "api": measure(
                    spec
                    | {
                        "kind": "api",
                        "target": api,
                        "organizations": draw.organizations,
                    },
                    generator_cpu,
                )
            }
        with serve(settings, "floor", "--page", str(page), *pin) as floor:
            runs["floor"] = measure(
                spec | {"kind": "floor", "target": floor}, generator_cpu
            )
    scripts = [
        [asdict(s) for s in runs["api"].samples[i * per : (i + 1) * per]]
        for i in range(connections)
    ]
    runs["sql"] = measure(
        spec
        | {"kind": "sql", "target": str(settings.database_url), "scripts": scripts},
        generator_cpu,
    )
    names = {
        "api": "GET /audits (real app)",
        "floor": "constant page (framework floor)",
        "sql": "SQL alone (psycopg async)",
    }
    for kind, name in names.items():
        done = runs[kind]
        report.rows.append(Stats.of(name, connections, _ms(done.samples), done.seconds))
    report.variants[connections] = list(
        zip(
            _by_variant(runs["api"].samples, connections),
            _by_variant(runs["sql"].samples, connections),
            strict=True,
        )
    )
    report.notes.append(
        f"{connections} connections: one asyncio load generator (HTTP/1.1 on"
        f" asyncio streams, {connections} keep-alive connections; psycopg async for"
        f" the SQL) pinned to CPU {runs['api'].pinned}, the servers to CPU"
        f" {server_cpu}; generator CPU"
        " use over the timed phase: "
        + ", ".join(f"{k} {r.cpu_share:.0%}" for k, r in runs.items())
    )


def _main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.concurrent_load")
    parser.add_argument("spec", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cpu", type=int)
    args = parser.parse_args(argv)
    pinned = pin(args.cpu)
    spec = json.loads(args.spec.read_text())
    work = _sql(spec) if spec["kind"] == "sql" else _http(spec)
    samples, seconds, cpu = asyncio.run(work)
    args.out.write_text(
        json.dumps(
            {
                "samples": [asdict(s) for s in samples],
                "seconds": seconds,
                "cpu": cpu,
                "pinned": pinned,
            }
        )
    )


if __name__ == "__main__":
    _main(sys.argv[1:])
