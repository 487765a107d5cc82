"""A downstream system reads the topic with its own group and gets CloudEvents."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path

from jsonschema import Draft202012Validator

from tests.e2e.conftest import as_user
from tests.kafka_helpers import consume_until, headers

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"
TYPE = re.compile(r"^assurehub\.[a-z_]+\.[a-z_]+\.v[0-9]+$")


def test_every_event_on_the_topic_is_a_complete_cloudevent(http, pipeline):
    tenant = f"e2e-{uuid.uuid4().hex[:8]}"
    admin = as_user(tenant)
    created = http.post(
        "/organizations",
        json={"name": "Downstream Ltd", "country": "PL"},
        headers={**admin, "X-Request-ID": "req-downstream"},
    ).json()
    http.post(
        f"/organizations/{created['id']}/rename",
        json={"name": "Downstream SA"},
        headers=admin,
    )
    http.post(
        f"/organizations/{created['id']}/sites",
        json={"name": "Depot", "address": "ul. Prosta 1"},
        headers=admin,
    )

    records = consume_until(
        pipeline.settings,
        pipeline.settings.kafka_topic,
        lambda rs: sum(headers(r)["ce_subject"] == created["id"] for r in rs) >= 3,
    )
    by_id: dict[str, set[tuple]] = {}
    for record in records:
        h = headers(record)
        assert h["ce_specversion"] == "1.0"
        assert TYPE.match(h["ce_type"]), h["ce_type"]
        assert h["ce_source"] == "/assurehub"
        assert h["ce_subject"] == record.key.decode()
        assert datetime.fromisoformat(h["ce_time"]).tzinfo is not None
        assert h["content-type"] == "application/json"
        assert int(h["ce_position"]) > 0
        assert int(h["ce_aggregateversion"]) > 0
        assert h["ce_tenantid"]
        assert h["ce_actorid"]
        assert h["ce_correlationid"]
        body = json.loads(record.value)
        schema = json.loads((SCHEMAS / f"{h['ce_type']}.json").read_text())
        Draft202012Validator(schema).validate(body)  # the documented shape
        by_id.setdefault(h["ce_id"], set()).add(
            (h["ce_position"], h["ce_subject"], h["ce_type"], record.value)
        )
    # Delivery is at-least-once: a ce_id may come twice, always as the same event.
    assert all(len(versions) == 1 for versions in by_id.values())

    mine = [headers(r) for r in records if headers(r)["ce_subject"] == created["id"]]
    assert [h["ce_type"] for h in mine] == [
        "assurehub.organization.registered.v2",
        "assurehub.organization.renamed.v1",
        "assurehub.organization.site_added.v1",
    ]
    assert [h["ce_aggregateversion"] for h in mine] == ["1", "2", "3"]
    assert mine[0]["ce_correlationid"] == "req-downstream"
    assert {h["ce_tenantid"] for h in mine} == {tenant}
    assert len({r.partition for r in records if r.key == created["id"].encode()}) == 1
