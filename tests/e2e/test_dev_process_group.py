"""``assurehub dev``: API (two workers), relay and projectors as one process
group that serves requests, sums its metrics over the API workers and stops
cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from infra.metrics.files import readable_files
from tests.e2e.conftest import as_user, free_port


def samples(metrics_port: int) -> dict[tuple[str, frozenset], float]:
    """One scrape of the metrics port: value by (sample name, labels)."""
    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def served_by_worker(metrics_dir: Path) -> dict[int, float]:
    """Accepted ``POST /organizations`` by the process (pid) that answered,
    read from each process's own file of the metrics directory."""
    served = {}
    for path in map(Path, readable_files(metrics_dir)):
        if not path.name.startswith("histogram_"):
            continue
        for family in MultiProcessCollector.merge([str(path)], accumulate=True):
            for s in family.samples:
                if s.name.endswith("_count") and s.labels == CREATED:
                    served[int(path.stem.split("_")[-1])] = s.value
    return served


CREATED = {"method": "POST", "route": "/organizations", "status": "201"}


def register_until_both_workers_served(url: str, admin, metrics_dir: Path) -> int:
    """Register organizations over new connections, 16 by 8 threads, until both
    API workers have answered some, and read each with ``min_position`` over
    a new connection (either worker's read waits for its projection); how
    many were accepted."""
    accepted = 0

    def register(i: int) -> None:
        with httpx.Client(base_url=url, headers=admin, timeout=30) as client:
            body = {"name": f"Worker Spread {i}", "country": "DK"}
            created = client.post("/organizations", json=body)
            assert created.status_code == 201, created.text
        read_back(url, admin, created.json())

    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(8) as pool:
        while len(served_by_worker(metrics_dir)) < 2:
            assert time.monotonic() < deadline, served_by_worker(metrics_dir)
            list(pool.map(register, range(accepted, accepted + 16)))
            accepted += 16
    return accepted


def read_back(url: str, admin, created: dict) -> None:
    """Read an organization with ``min_position``; the relay of this group
    starts on a topic of its own and first republishes every stored event, so
    the read may answer 503 read-model-behind (with Retry-After) for a while:
    retry as a client would."""
    deadline = time.monotonic() + 120
    while True:
        with httpx.Client(base_url=url, headers=admin, timeout=30) as client:
            read = client.get(
                f"/organizations/{created['id']}",
                params={"min_position": created["position"]},
            )
        if read.status_code != 503 or time.monotonic() > deadline:
            break
        assert read.json()["code"] == "read-model-behind"
    assert read.status_code == 200, read.text
    assert read.json()["id"] == created["id"]


def check_metrics(
    url: str, metrics_port: int, admin, position: int, accepted: int
) -> None:
    """The process group's metrics, from its two API workers, relay and
    projectors, on the metrics port only: ``accepted`` organizations were
    registered, by both workers together."""
    refused = httpx.post(
        f"{url}/organizations", json={"name": "", "country": "DK"}, headers=admin
    )
    assert refused.status_code == 422
    assert httpx.get(f"{url}/metrics", headers=admin).status_code == 404
    deadline = time.monotonic() + 30
    while True:  # each process's pool gauge is sampled every few seconds
        got = samples(metrics_port)
        pool = got.get(
            ("assurehub_db_pool_connections", frozenset({("state", "open")}))
        )
        if pool or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert pool is not None
    assert pool >= 2  # the API workers' and the workers' pools together

    def value(name: str, **labels: str) -> float:
        return got[(name, frozenset(labels.items()))]

    route = {"method": "POST", "route": "/organizations"}
    assert value("assurehub_http_request_duration_seconds_count", **CREATED) == (
        accepted
    )
    assert value("assurehub_http_request_duration_seconds_count", **route,
                 status="422") == 1  # fmt: skip
    command = "register_organization"
    assert value("assurehub_commands_total", command=command, outcome="accepted") == (
        accepted
    )
    assert value("assurehub_commands_total", command=command, outcome="rejected") == 1
    assert value("assurehub_event_append_duration_seconds_count", outcome="ok") >= 1
    assert value("assurehub_relay_position") >= position
    assert value("assurehub_state_up") == 1
    organizations = {"projection": "organizations"}
    assert value("assurehub_projection_reached_position", **organizations) >= position
    assert value("assurehub_projection_halted", **organizations) == 0
    assert value("assurehub_projection_parked_events", **organizations) == 0
    partitions = [
        dict(labels)["partition"]
        for name, labels in got
        if name == "assurehub_projection_partition_position"
        and ("projection", "organizations") in labels
    ]
    assert partitions  # those the relay has published to
    assert set(partitions) <= {"0", "1", "2"}
    lags = [k for k in got if k[0] == "assurehub_kafka_consumer_lag_records"]
    assert {dict(labels)["group"] for _, labels in lags} == {"assurehub.projectors"}
    assert value("assurehub_outbox_backlog_messages") >= 0


@pytest.mark.timeout(240)  # five processes (two API workers) start on 2 cores
def test_dev_serves_commands_end_to_end_and_stops_on_ctrl_c(own_database, tmp_path):
    migrated = own_database
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "ASSUREHUB_ENV": "development",
        "ASSUREHUB_DATABASE_URL": str(migrated.database_url),
        "ASSUREHUB_KAFKA_TOPIC": f"{migrated.kafka_topic}.dev",
        "ASSUREHUB_API_PORT": str(port),
        "ASSUREHUB_LOG_FORMAT": "text",
        "ASSUREHUB_HEARTBEAT_DIR": str(tmp_path / "beats"),
        "ASSUREHUB_API_WORKERS": "2",
        "ASSUREHUB_METRICS_PORT": str(metrics_port),
        "ASSUREHUB_METRICS_DIR": str(tmp_path / "metrics"),
    }
    log_path = tmp_path / "dev.log"
    log_file = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "processors.cli", "dev"],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API did not come up"
            time.sleep(0.2)
        admin = as_user("e2e-dev")
        created = httpx.post(
            f"{url}/organizations",
            json={"name": "Dev Group Ltd", "country": "DK"},
            headers=admin,
        ).json()
        read_back(url, admin, created)
        spread = register_until_both_workers_served(url, admin, tmp_path / "metrics")
        check_metrics(url, metrics_port, admin, created["position"], 1 + spread)
        for worker in ("relay", "projectors", "processors"):
            health = subprocess.run(
                [sys.executable, "-m", "processors.cli", "health", worker],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert health.returncode == 0, health.stdout + health.stderr
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole group
        code = proc.wait(timeout=30)
        log_file.close()
    output = log_path.read_text()
    assert code == 0, output
    assert "all stopped" in output
    assert "Traceback" not in output
