"""A real webhook receiver process (``docs/examples/webhook_receiver.py``,
which verifies with the standardwebhooks library) and a dispatcher process
(``assurehub webhooks``) for the webhook tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RECEIVER = ROOT / "docs" / "examples" / "webhook_receiver.py"

FAST_RETRIES = {
    "ASSUREHUB_WEBHOOK_TIMEOUT_SECONDS": "1",
    "ASSUREHUB_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "ASSUREHUB_WEBHOOK_RETRY_MAX_SECONDS": "0.8",
    "ASSUREHUB_WEBHOOK_POLL_SECONDS": "0.2",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def receiver(
    port: int, secrets: list[str], *extra: str
) -> Iterator[subprocess.Popen[str]]:
    """The example receiver on ``port``, started and listening."""
    args = [sys.executable, str(RECEIVER), "--port", str(port)]
    for secret in secrets:
        args += ["--secret", secret]
    with subprocess.Popen(
        [*args, *extra], stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().startswith("listening on")
            yield child
        finally:
            child.terminate()
            child.wait(timeout=10)


def dispatcher_env(settings: Settings, heartbeat_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "ASSUREHUB_ENV": "development",
        "ASSUREHUB_DATABASE_URL": str(settings.database_url),
        "ASSUREHUB_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "ASSUREHUB_KAFKA_TOPIC": settings.kafka_topic,
        "ASSUREHUB_REDIS_URL": settings.redis_url,
        "ASSUREHUB_HEARTBEAT_DIR": str(heartbeat_dir),
        "ASSUREHUB_LOG_FORMAT": "text",
        "ASSUREHUB_LOG_LEVEL": "WARNING",
        **FAST_RETRIES,
    }


def dispatcher(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``assurehub webhooks`` in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "processors.cli", "webhooks"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)


def received(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} not within {seconds} s"
        time.sleep(0.1)
