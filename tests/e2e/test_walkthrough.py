"""The README's walk-through (docs/walkthrough.sh) works as written."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "walkthrough.sh"


def test_the_walkthrough_plans_an_audit_and_issues_a_certificate(base_url):
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, "BASE": base_url, "TENANT": f"walk-{uuid.uuid4().hex[:8]}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "closed; certificate" in result.stdout
    assert '"verification_code"' in result.stdout
