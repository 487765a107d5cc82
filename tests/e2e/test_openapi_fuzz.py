"""Schemathesis, as any client would run it, against the running API.

The stock ``schemathesis run`` command reads ``/openapi.json`` and sends, for
every operation, the schema's examples, its coverage cases (boundaries,
missing and malformed parameters, methods the path does not serve) and
generated data, positive and negative. Every check it has runs except the
ones that need state we cannot give it (a created resource to reuse, the
guarantee that valid-by-schema data names records that exist). It runs once
per caller: API tokens of a tenant's staff (every role a token may hold), a
compliance officer and an auditor, each authenticated only by its token, so
``ignored_auth`` is real; administration routes answer them 403.

Afterwards every read model must have applied everything stored, and the
fuzz input must have parked or halted nothing: what the edge accepted, the
read models could hold.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from infra.projection.registry import READ_MODELS
from tests.e2e.conftest import api_with, as_user
from tests.e2e.world import World, build_world, new_tenant, world_ids

CALLERS = {
    "staff": [
        "programme_manager",
        "auditor",
        "technical_reviewer",
        "decision_maker",
    ],
    "compliance-officer": ["compliance_officer"],
    "auditor": ["auditor"],
}
EXAMPLES_PER_OPERATION = 6
"""Generated cases per operation and mode; the coverage phase adds its own."""
EXCLUDED_CHECKS = (
    # Valid-by-schema data may name a record that does not exist (404) or be
    # refused by a domain rule (409); the schema cannot say which.
    "positive_data_acceptance",
    # Need resources created and reused across calls (stateful phase).
    "use_after_free",
    "ensure_resource_availability",
)
CONFIG = """
[generation]
# An HTTP API must accept headers it does not know (proxies add them), so
# undeclared parameters are not generated: the fuzzer would count an unknown
# header accepted as a failure. Unknown query parameters are refused (400),
# which tests/unit/test_exact_query.py and the listing tests hold.
allow-extra-parameters = false

[parameters]
"""
RUN_SECONDS = 600
RUNNING = {projection.name for projection in READ_MODELS}
"""The projections the session's pipeline runs."""


def _token(http: httpx.Client, tenant: str, name: str, roles: list[str]) -> str:
    answer = http.post(
        "/api-tokens",
        json={"name": f"fuzz {name}", "roles": roles, "expires_in_days": 1},
        headers=as_user(tenant, "tenant_admin", actor="fuzz-admin"),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def _config(world: World, path: Path) -> Path:
    """Path parameters naming the world's records, so that operations on one
    record reach their logic instead of a 404."""
    ids = world_ids(world, world.standard_template)
    lines = [f'"path.{name}" = {json.dumps(str(value))}' for name, value in ids.items()]
    path.write_text(CONFIG + "\n".join(lines) + "\n")
    return path


def _schemathesis(
    base_url: str, token: str, config: Path, report: Path
) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        ",".join(EXCLUDED_CHECKS),
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--generation-deterministic",
        "--no-shrink",
        "--suppress-health-check",
        "all",
        # One worker: hypothesis describes strategies by parsing source with
        # ``ast``, which Python 3.11 does not do safely from two threads at once
        # (seen here as "AST constructor recursion depth mismatch").
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--no-color",
    ]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
        cwd=report.parent,
    )


def _failures(output: str) -> str:
    """The run's failures and errors sections (not its progress lines)."""
    start = min(
        (i for i in (output.find("= FAILURES ="), output.find("= ERRORS =")) if i >= 0),
        default=max(0, len(output) - 20_000),
    )
    return output[start : start + 30_000]


def _operations(base_url: str) -> int:
    spec = httpx.get(f"{base_url}/openapi.json", timeout=30).json()
    methods = {"get", "post", "put", "patch", "delete"}
    return sum(1 for ops in spec["paths"].values() for m in ops if m in methods)


def _counts(report: Path) -> dict[str, int]:
    """Operations tested, failed and errored, as the run's JUnit report says."""
    root = ET.parse(report).getroot()
    return {k: int(root.attrib[k]) for k in ("tests", "failures", "errors")}


def _statuses(pipeline) -> list:
    return [s for s in pipeline.projection_status() if s.projection in RUNNING]


def _parked_and_halted(pipeline) -> dict[str, tuple[int, str | None]]:
    return {s.projection: (s.parked, s.halt) for s in _statuses(pipeline)}


def _wait_for_head(pipeline, timeout: float = 120) -> list:
    deadline = time.monotonic() + timeout
    while True:
        statuses = _statuses(pipeline)
        behind = [s for s in statuses if s.reached < s.head]
        if not behind or time.monotonic() > deadline:
            return behind
        time.sleep(0.5)


@pytest.mark.timeout(900)
def test_every_operation_holds_every_check_for_each_caller(
    settings, http, pipeline, tmp_path
):
    tenant = new_tenant("fuzz")
    world = build_world(http, pipeline, tenant)
    config = _config(world, tmp_path / "schemathesis.toml")
    before = _parked_and_halted(pipeline)
    failures = []
    # Its own server, so the fuzz is not answered 429 by the tokens' budget.
    with api_with(settings, api_requests_per_minute=1_000_000) as (client, _):
        for name, roles in CALLERS.items():
            token = _token(client, tenant, name, roles)
            report = tmp_path / f"{name}.xml"
            url = str(client.base_url).rstrip("/")
            run = _schemathesis(url, token, config, report)
            if run.returncode != 0:
                failures.append(f"--- as {name} ---\n{_failures(run.stdout)}")
                continue
            # A run that tested nothing must not pass for one that found nothing.
            assert _counts(report) == {
                "tests": _operations(url),
                "failures": 0,
                "errors": 0,
            }, run.stdout[-5_000:]
    assert not failures, "\n".join(failures)

    behind = _wait_for_head(pipeline)
    assert not behind, [(s.projection, s.reached, s.head) for s in behind]
    after = _parked_and_halted(pipeline)
    assert after == before, {"before": before, "after": after}
