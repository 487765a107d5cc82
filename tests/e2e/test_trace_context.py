"""A W3C ``traceparent`` sent with a command travels in the event's metadata,
in the Kafka record's ``ce_traceparent`` header and on the relay's and the
projector's log lines about the event."""

from __future__ import annotations

import logging
import secrets

from infra.logs import CorrelationFilter
from tests.e2e.conftest import as_user
from tests.kafka_helpers import consume_until, headers


def test_the_traceparent_of_a_command_follows_its_event_to_the_read_model(
    http, pipeline, caplog
):
    trace, parent = secrets.token_hex(16), secrets.token_hex(8)
    caplog.handler.addFilter(CorrelationFilter())
    caplog.set_level(logging.INFO, logger="infra.streaming.relay")
    caplog.set_level(logging.DEBUG, logger="infra.projection.runner")
    created = http.post(
        "/organizations",
        json={"name": "Traced Ltd", "country": "NL"},
        headers={**as_user("e2e-trace"), "traceparent": f"00-{trace}-{parent}-01"},
    ).json()
    read = http.get(
        f"/organizations/{created['id']}",
        params={"min_position": created["position"]},
        headers=as_user("e2e-trace"),
    )
    assert read.status_code == 200

    # The event records the API's own span in the caller's trace.
    [stored] = pipeline.event_store.read_after(created["position"] - 1, 1)
    traceparent = pipeline.event_store.decode(stored).meta.traceparent
    assert traceparent.startswith(f"00-{trace}-")
    assert traceparent.endswith("-01")
    assert traceparent != f"00-{trace}-{parent}-01"

    [record] = [
        r
        for r in consume_until(
            pipeline.settings,
            pipeline.settings.kafka_topic,
            lambda rs: any(headers(r)["ce_subject"] == created["id"] for r in rs),
        )
        if headers(r)["ce_subject"] == created["id"]
    ]
    assert headers(record)["ce_traceparent"] == traceparent

    published = [r for r in caplog.records if r.getMessage() == "events published"]
    assert any(trace in (r.trace_ids or ()) for r in published)
    projected = [r for r in caplog.records if r.getMessage() == "events projected"]
    assert any(trace in (r.trace_ids or ()) for r in projected)
    per_event = [
        r
        for r in caplog.records
        if r.getMessage() == "event projected"
        and r.event_id == headers(record)["ce_id"]
    ]
    assert per_event
    assert {r.traceparent for r in per_event} == {traceparent}


def test_a_missing_or_malformed_traceparent_starts_a_trace(http, pipeline):
    for given in (None, "00-" + "0" * 32 + "-" + "1" * 16 + "-01", "garbage"):
        extra = {"traceparent": given} if given else {}
        created = http.post(
            "/organizations",
            json={"name": "Untraced Ltd", "country": "NL"},
            headers={**as_user("e2e-trace"), **extra},
        ).json()
        [stored] = pipeline.event_store.read_after(created["position"] - 1, 1)
        meta = pipeline.event_store.decode(stored).meta
        parts = meta.traceparent.split("-")
        assert len(parts) == 4
        assert parts[0] == "00"
        assert len(parts[1]) == 32
        assert parts[1] != "0" * 32
