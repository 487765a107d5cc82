"""The README's walk-through (docs/walkthrough.sh) works as written, the
document processor running as under ``make run``."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

from pypdf import PdfReader

from tests.e2e.conftest import processing

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "walkthrough.sh"


def test_the_walkthrough_ends_with_the_report_and_certificate_downloaded(
    base_url, document_jobs, tmp_path
):
    with processing(document_jobs):
        result = subprocess.run(
            ["bash", str(SCRIPT)],
            env={
                **os.environ,
                "BASE": base_url,
                "TENANT": f"walk-{uuid.uuid4().hex[:8]}",
                "OUT": str(tmp_path),
            },
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "closed; certificate" in result.stdout
    assert '"verification_code"' in result.stdout
    assert '"issued":true' in result.stdout
    [report] = tmp_path.glob("*.pdf")
    assert report.name.startswith("ISO-9001-stage-2-Nordic-Valves-AB-")
    [certificate] = (tmp_path / "certificate").glob("*.pdf")
    assert "-rev-1-Nordic-Valves-AB" in certificate.name
    assert len(PdfReader(certificate).pages) == 1
    assert "Requirements of ISO 9001 met" in "\n".join(
        page.extract_text() for page in PdfReader(report).pages
    )
