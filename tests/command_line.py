"""The ``assurehub`` command run as an operator runs it: its own process,
only the environment given (and ``PATH``), output captured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def assurehub(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``assurehub ARGS`` with ``env``; waits for it (two minutes at most)."""
    return subprocess.run(
        [sys.executable, "-m", "processors.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), "ASSUREHUB_LOG_FORMAT": "text", **env},
    )
