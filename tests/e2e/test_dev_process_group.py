"""``assurehub dev``: API, relay and projectors as one process group that
serves requests and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from infra.migrations import migrate
from infra.postgres.pool import Database
from infra.postgres.projection_schemas import ensure_schemas
from infra.projection.registry import all_projections
from tests.e2e.conftest import as_user, free_port
from tests.scratch_database import scratch_database


@pytest.fixture
def own_database(migrated):
    """A migrated database of its own: the dev process group's relay starts
    on a new topic and republishes every stored event, so on the shared test
    store its start-up would grow with every test run before it."""
    with scratch_database(migrated) as settings:
        database = Database.from_settings(settings)
        try:
            migrate(settings, database)
            ensure_schemas(database, all_projections(), store_is_empty=True)
        finally:
            database.close()
        yield settings


def test_dev_serves_commands_end_to_end_and_stops_on_ctrl_c(own_database, tmp_path):
    migrated = own_database
    port = free_port()
    env = {
        **os.environ,
        "ASSUREHUB_ENV": "development",
        "ASSUREHUB_DATABASE_URL": str(migrated.database_url),
        "ASSUREHUB_KAFKA_TOPIC": f"{migrated.kafka_topic}.dev",
        "ASSUREHUB_API_PORT": str(port),
        "ASSUREHUB_LOG_FORMAT": "text",
        "ASSUREHUB_HEARTBEAT_DIR": str(tmp_path / "beats"),
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
        deadline = time.monotonic() + 60
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
        # Its relay starts on a topic of its own and first republishes every
        # stored event, so the read may answer 503 read-model-behind (with
        # Retry-After) for a while: retry as a client would.
        deadline = time.monotonic() + 120
        while True:
            read = httpx.get(
                f"{url}/organizations/{created['id']}",
                params={"min_position": created["position"]},
                headers=admin,
                timeout=30,
            )
            if read.status_code != 503 or time.monotonic() > deadline:
                break
            assert read.json()["code"] == "read-model-behind"
        assert read.status_code == 200, read.text
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
