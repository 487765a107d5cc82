"""The Grafana dashboard in docs/operations queries only series we serve."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERIES = re.compile(r"assurehub_[a-z_]+")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def served() -> set[str]:
    sources = ("infra/metrics/instruments.py", "infra/projection/state_metrics.py")
    return {name for s in sources for name in SERIES.findall((ROOT / s).read_text())}


def base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def test_every_panel_queries_series_the_code_serves():
    dashboard = json.loads(
        (ROOT / "docs/operations/grafana-dashboard.json").read_text()
    )
    queried = {
        base(name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in SERIES.findall(target["expr"])
    }
    assert queried
    assert queried <= served(), queried - served()
