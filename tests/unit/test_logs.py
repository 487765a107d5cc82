"""Log lines are JSON and carry the correlation id of the work at hand."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

from infra.logs import CorrelationFilter, JsonFormatter, correlation_id
from infra.projection.runner import ProjectionRunner
from projections.envelope import EventEnvelope


def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_is_one_json_object_with_extras_and_the_correlation_id():
    logger, stream = capture()
    token = correlation_id.set("req-7")
    try:
        logger.warning("relay waiting", extra={"dependency": "kafka", "attempt": 2})
    finally:
        correlation_id.reset(token)
    [entry] = lines(stream)
    assert entry["message"] == "relay waiting"
    assert entry["level"] == "warning"
    assert (entry["dependency"], entry["attempt"]) == ("kafka", 2)
    assert entry["correlation_id"] == "req-7"


class LoggingProjection:
    name = "logging"

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def apply(self, event: EventEnvelope, store: object) -> None:
        self.logger.info("applying %s", event.type)


def test_the_projector_logs_under_the_events_correlation_id():
    logger, stream = capture()
    runner = ProjectionRunner(LoggingProjection(logger), lambda c: c, None, None, "t")  # type: ignore[arg-type]
    envelope = EventEnvelope(
        id="e1",
        type="assurehub.organization.renamed.v1",
        source="/assurehub",
        subject="s",
        time=datetime.now(UTC),
        tenant_id="t1",
        position=5,
        aggregate_version=2,
        actor_id="alice",
        correlation_id="req-from-http",
        causation_id="req-from-http",
        data={},
    )
    runner._apply(envelope, object())
    [entry] = lines(stream)
    assert entry["correlation_id"] == "req-from-http"
    assert correlation_id.get() is None
