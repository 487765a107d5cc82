"""The HTTP edge's instruments: requests timed by route template and status,
commands counted by outcome, refusals with 429 counted by limit."""

from __future__ import annotations

import uuid
from typing import Any

from commands.http.edge import TooManyRequestsError
from infra.metrics.instruments import instruments
from infra.metrics.server import exposition_registry
from tests.in_process import app_in_process, send


class Throttled:
    async def authenticate(self, headers: Any) -> None:
        raise TooManyRequestsError(7)


def value(name: str, **labels: str) -> float:
    registry = instruments().registry
    assert registry is not None  # the unit tests configure no directory
    return registry.get_sample_value(name, labels) or 0.0


def test_requests_are_timed_by_route_template_and_commands_counted_by_outcome():
    org = str(uuid.uuid4())
    route = {"method": "GET", "route": "/organizations/{organization_id}"}
    timed = "assurehub_http_request_duration_seconds_count"
    before = value(timed, **route, status="400")
    rejected = {"command": "register_organization", "outcome": "rejected"}
    refused = value("assurehub_commands_total", **rejected)
    send(
        app_in_process(),
        [
            {"method": "GET", "url": f"/organizations/{org}", "params": {"x": "1"}},
            {"method": "POST", "url": "/organizations", "json": {"name": ""}},
        ],
    )
    assert value(timed, **route, status="400") == before + 1
    assert value("assurehub_commands_total", **rejected) == refused + 1


def test_refusals_with_429_are_counted_by_limit():
    labels = {"limit": "TooManyRequestsError"}
    before = value("assurehub_rate_limit_refusals_total", **labels)
    [answer] = send(app_in_process(Throttled()), [{"method": "GET", "url": "/audits"}])
    assert answer.status_code == 429
    assert value("assurehub_rate_limit_refusals_total", **labels) == before + 1


def test_the_exposition_holds_the_process_instruments():
    instruments().commands.labels("plan_audit", "accepted").inc()
    names = {m.name for m in exposition_registry(None).collect()}
    assert {"assurehub_commands", "assurehub_http_request_duration_seconds"} <= names
