"""The public readiness answer names a halted projection, never its reason."""

from __future__ import annotations

from infra.health import Readiness
from tests.in_process import app_in_process, send

REASON = "record 42 (title 'Client X GmbH, Vienna') can be neither applied nor parked"


def test_ready_names_a_halted_projection_without_its_reason():
    app = app_in_process()
    app.state.container.health.readiness.return_value = Readiness(
        ready=True,
        status="degraded",
        checks={"postgres": "up", "projections": "halted"},
        halted={"templates": REASON},
    )
    (answer,) = send(app, [{"method": "GET", "url": "/health/ready"}])
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "degraded"
    assert list(body["halted"]) == ["templates"]
    assert "Client X" not in answer.text
    assert "projections status" in body["halted"]["templates"]
