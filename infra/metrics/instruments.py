"""The instruments a process records into, made once per process.

:func:`configure` chooses, before the first instrument is made, between
prometheus-client's multiprocess mode (values in memory-mapped files under a
directory shared by the processes of one host, aggregated when scraped) and
a registry of this process alone. Instruments are made on first use of
:func:`instruments`, never at import.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values

_LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.Lock()
_directory: Path | None = None
_made: Instruments | None = None


@dataclass(frozen=True)
class Instruments:
    """Every instrument a process may record into."""

    registry: CollectorRegistry | None
    """This process's registry (``None`` in multiprocess mode, where the
    files are the registry)."""
    http_duration: Histogram
    commands: Counter
    append_duration: Histogram
    rate_limited: Counter
    kafka_lag: Gauge
    partition_lag: Gauge
    partition_lag_seconds: Gauge
    pool: Gauge


def configure(directory: Path | None) -> None:
    """Record into files under ``directory`` (multiprocess mode), or into
    this process's registry when ``None``. Only the first call before any
    instrument is made counts."""
    global _directory
    with _lock:
        if _made is not None:
            return
        _directory = directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
            values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def directory() -> Path | None:
    """The multiprocess directory, if that mode was configured."""
    return _directory


def instruments() -> Instruments:
    """This process's instruments (made on first call)."""
    global _made
    with _lock:
        if _made is None:
            _made = _make(None if _directory is not None else CollectorRegistry())
        return _made


def timed_append(append: F) -> F:
    """Time each call of an event store's ``append`` (outcome ``ok`` or the
    error's class name)."""

    @functools.wraps(append)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return append(*args, **kwargs)
        except Exception as e:
            outcome = type(e).__name__
            raise
        finally:
            instruments().append_duration.labels(outcome).observe(
                time.perf_counter() - started
            )

    return timed  # type: ignore[return-value]


def _make(registry: CollectorRegistry | None) -> Instruments:
    return Instruments(
        registry=registry,
        http_duration=Histogram(
            "assurehub_http_request_duration_seconds",
            "HTTP requests by method, route template and status.",
            ("method", "route", "status"),
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        commands=Counter(
            "assurehub_commands",
            "Commands by type (the route's name) and outcome"
            " (accepted, rejected, failed).",
            ("command", "outcome"),
            registry=registry,
        ),
        append_duration=Histogram(
            "assurehub_event_append_duration_seconds",
            "Appends to the event store (one transaction each), by outcome.",
            ("outcome",),
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        rate_limited=Counter(
            "assurehub_rate_limit_refusals",
            "Requests refused with 429, by limit.",
            ("limit",),
            registry=registry,
        ),
        kafka_lag=Gauge(
            "assurehub_kafka_consumer_lag_records",
            "Records on the partition after the consumer's position.",
            ("group", "partition"),
            registry=registry,
            multiprocess_mode="livemax",
        ),
        partition_lag=Gauge(
            "assurehub_projection_partition_lag_records",
            "Records on the partition a projection has not applied yet"
            " (from the projector that holds the partition).",
            ("projection", "partition"),
            registry=registry,
            multiprocess_mode="livemax",
        ),
        partition_lag_seconds=Gauge(
            "assurehub_projection_partition_lag_seconds",
            "Per partition, 0 when a projection has applied every record the"
            " last fetch saw, else seconds since the newest record it applied"
            " was recorded (from the projector that holds the partition).",
            ("projection", "partition"),
            registry=registry,
            multiprocess_mode="livemax",
        ),
        pool=Gauge(
            "assurehub_db_pool_connections",
            "Postgres pool connections of the live processes, by state"
            " (open, in_use, waiting requests).",
            ("state",),
            registry=registry,
            multiprocess_mode="livesum",
        ),
    )
