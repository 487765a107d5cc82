"""The README's compliance officer walk-through (docs/compliance-officer.sh)
works as written against a real server, with the real ``assurehub`` command
exporting the trail offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "compliance-officer.sh"


def test_history_trail_export_and_who_looked(base_url, settings, tmp_path):
    tenant = f"co-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        env={
            **os.environ,
            "BASE": base_url,
            "TENANT": tenant,
            "OUT": str(tmp_path),
            "ASSUREHUB": str(Path(sys.executable).parent / "assurehub"),
            "ASSUREHUB_ENV": "development",
            "ASSUREHUB_DATABASE_URL": str(settings.database_url),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("v1 organization.registered by pm: ")
    assert '"name": "Nordic Valves Group AB"' in lines[1]
    assert lines[1].startswith("v2 organization.renamed by pm: ")
    assert lines[2] == "history CSV: 2 events"
    # Two organization events, and the two history reads before the export.
    assert lines[3] == "trail: 4 events"
    assert lines[4:7] == [
        f"cora read GET /organizations/{{organization_id}}/history ({q}) from 127.0.0.1"
        for q in ("limit=50", "format=csv")
    ] + ["cora read GET /audit-trail (format=jsonl) from 127.0.0.1"]
    # ... plus the read of the reads and the offline export itself.
    assert lines[7] == "offline trail: 7 events"
    offline = [
        json.loads(x)
        for x in (tmp_path / "offline-trail.jsonl").read_text().splitlines()
    ]
    online = [
        json.loads(x) for x in (tmp_path / "trail.jsonl").read_text().splitlines()
    ]
    assert offline[:4] == online
    assert offline[-1]["actor"]["id"] == "system:export-history"
    assert {e["aggregate_id"] for e in offline[:2]} == {offline[0]["aggregate_id"]}
