"""The committed AsyncAPI document is valid by the official AsyncAPI parser
(npm ``@asyncapi/parser``, installed by ``scripts/asyncapi-tools.sh``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from infra.streaming.asyncapi import ASYNCAPI_FILE

ROOT = Path(__file__).resolve().parents[2]
VALIDATE = ROOT / "scripts" / "validate-asyncapi.mjs"


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    subprocess.run(["bash", str(ROOT / "scripts" / "asyncapi-tools.sh")], check=True)
    return subprocess.run(
        ["node", str(VALIDATE), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_official_parser_accepts_the_committed_document():
    result = _validate(ROOT / "docs" / "events" / ASYNCAPI_FILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid: AsyncAPI 3.0.0" in result.stdout


def test_the_parser_refuses_a_broken_document(tmp_path):
    broken = (ROOT / "docs" / "events" / ASYNCAPI_FILE).read_text()
    broken = broken.replace("action: receive", "action: listen", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    result = _validate(path)
    assert result.returncode == 1
    assert "error" in result.stdout
