"""``assurehub dev``: the API, relay and projectors as one process group.

Children that exit unexpectedly are restarted (with a pause); Ctrl-C or
SIGTERM stops them all cleanly and waits for them.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)

CHILDREN = ("api", "relay", "projectors", "processors")
_GRACE_SECONDS = 15


def _spawn(name: str) -> subprocess.Popen[bytes]:
    log.info("starting", extra={"child": name})
    return subprocess.Popen([sys.executable, "-m", "processors.cli", name])  # noqa: S603


def _clear_metrics(directory: Path | None) -> None:
    """Start the group's metrics afresh: counters of processes of an earlier
    run would otherwise be summed in forever."""
    if directory is not None and directory.is_dir():
        for f in directory.glob("*.db"):
            f.unlink(missing_ok=True)


def supervise(metrics_dir: Path | None = None) -> int:
    """Run every child until interrupted; return the exit status."""
    stopping = False
    _clear_metrics(metrics_dir)

    def handle(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    procs = {name: _spawn(name) for name in CHILDREN}
    while not stopping:
        time.sleep(0.5)
        for name, proc in list(procs.items()):
            code = proc.poll()
            if code is not None and not stopping:
                log.error(
                    "process exited; restarting", extra={"child": name, "code": code}
                )
                time.sleep(1)
                procs[name] = _spawn(name)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + _GRACE_SECONDS
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("killing", extra={"child": name})
            proc.kill()
            proc.wait()
    log.info("all stopped")
    return 0
