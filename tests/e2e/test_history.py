"""History of one thing and the tenant's trail, read from the event store over
HTTP, scoped like the details; reads of the past by staff are recorded and
listed in the trail."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from domain.account import Account
from domain.events import EventMeta
from domain.organization import Organization
from tests.e2e.conftest import as_user

PROBLEM = "application/problem+json"
WAIT_SECONDS = 90


def _visible(http: httpx.Client, path: str, headers, position: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        r = http.get(path, headers=headers, params={"min_position": position})
        if r.status_code == 200:
            return
        assert time.monotonic() < deadline, r.text
        time.sleep(0.2)


class _Tenant:
    def __init__(self, http: httpx.Client, pipeline) -> None:
        self.id = f"hist-{uuid.uuid4().hex[:10]}"
        store = pipeline.event_store
        self.meta = EventMeta(self.id, "setup", "hist-setup", "hist-setup")
        invited = datetime.now(UTC) + timedelta(days=3)
        self.officer = Account.invite(
            self.meta,
            f"cora-{self.id}@acme.test",
            "Cora Compliance",
            ("compliance_officer",),
            (),
            invited,
        )
        self.officer.record_login_failed(self.meta, "bad_password", "203.0.113.7")
        self.org = Organization.register(self.meta, "Hist Pumps", "GB")
        self.other_org = Organization.register(self.meta, "Other Pumps", "GB")
        store.append(self.officer, self.org, self.other_org)
        cora = EventMeta(self.id, str(self.officer.id), "rename-1", "rename-1")
        for n in range(5):
            self.org.rename(cora, f"Hist Pumps {n}")
        position = store.append(self.org)
        self.staff = as_user(self.id, "compliance_officer", actor=str(self.officer.id))
        self.auditor = as_user(self.id, "auditor", actor="ana")
        _visible(http, f"/organizations/{self.org.id}", self.staff, position)
        _visible(http, f"/users/{self.officer.id}", self.staff, position)


def test_history_pages_filters_and_exports(http, pipeline):
    t = _Tenant(http, pipeline)
    path = f"/organizations/{t.org.id}/history"
    first = http.get(path, headers=t.auditor, params={"limit": 2})
    assert first.status_code == 200, first.text
    body = first.json()
    assert [e["version"] for e in body["items"]] == [1, 2]
    assert body["items"][0]["type"] == "organization.registered"
    assert body["items"][0]["public_type"] == "assurehub.organization.registered.v2"
    assert body["items"][0]["data"]["name"] == "Hist Pumps"
    rest = http.get(path, headers=t.auditor, params={"cursor": body["next_cursor"]})
    assert [e["version"] for e in rest.json()["items"]] == [3, 4, 5, 6]
    assert rest.json()["next_cursor"] is None
    renamed = rest.json()["items"][-1]
    assert renamed["actor"]["id"] == str(t.officer.id)
    assert renamed["actor"]["name"] is None  # an auditor sees no other's name
    assert renamed["correlation_id"] == "rename-1"
    assert renamed["position"] > body["items"][0]["position"]
    named = http.get(path, headers=t.staff, params={"type": "organization.renamed"})
    items = named.json()["items"]
    assert len(items) == 5
    assert items[0]["actor"]["name"] == "Cora Compliance"
    by_actor = http.get(path, headers=t.staff, params={"actor": "setup"}).json()
    assert [e["version"] for e in by_actor["items"]] == [1]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    late = http.get(path, headers=t.staff, params={"recorded_from": future})
    assert late.json()["items"] == []

    exported = http.get(path, headers=t.staff, params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["version"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert json.loads(rows[-1]["data"])["name"] == "Hist Pumps 4"
    lines = http.get(path, headers=t.staff, params={"format": "jsonl"})
    assert lines.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(x)["version"] for x in lines.text.splitlines()] == list(
        range(1, 7)
    )


def test_history_refuses_bad_values_and_other_scopes(http, pipeline):
    t = _Tenant(http, pipeline)
    path = f"/organizations/{t.org.id}/history"
    for params, field in (
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"cursor": "abc"}, "cursor"),
        ({"type": "organization.nope"}, "type"),
        ({"recorded_from": "2026-01-01"}, "recorded_from"),
        ({"format": "xml"}, "format"),
        ({"format": "csv", "limit": "5"}, "limit"),
        ({"as_of": "2026-01-01T00:00:00Z"}, "as_of"),
    ):
        r = http.get(path, headers=t.staff, params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.headers["content-type"] == PROBLEM
        assert field in r.text
    client = {
        **as_user(t.id, "client_user", actor="cliff"),
        "X-Dev-Organizations": str(t.other_org.id),
    }
    assert http.get(path, headers=client).status_code == 404
    stranger = as_user(f"other-{uuid.uuid4().hex[:8]}", "tenant_admin")
    assert http.get(path, headers=stranger).status_code == 404
    trail = http.get("/audit-trail", headers=t.auditor)
    assert trail.status_code == 403


def test_personal_fields_only_for_those_who_may_see_them(http, pipeline):
    t = _Tenant(http, pipeline)
    path = f"/users/{t.officer.id}/history"
    admin = as_user(t.id, "tenant_admin", actor="tess")
    failed = http.get(path, headers=admin, params={"type": "account.login_failed"})
    assert failed.json()["items"][0]["data"]["address"] == "203.0.113.7"
    # The trail as a compliance officer sees it; an entry about another
    # person seen by someone without personal_data:read is redacted (the
    # redaction rule itself is unit-tested); here the invitation is the
    # officer's own, so it is never hidden from them.
    mine = http.get(
        "/audit-trail",
        headers=t.staff,
        params={"aggregate_id": str(t.officer.id), "type": "account.invited"},
    ).json()["items"][0]
    assert mine["data"]["email"].startswith("cora-")
    assert mine["redacted"] == []


def test_reads_of_the_past_are_recorded_and_listed_in_the_trail(http, pipeline):
    t = _Tenant(http, pipeline)
    http.get(f"/organizations/{t.org.id}/history", headers=t.auditor).raise_for_status()
    client = {
        **as_user(t.id, "client_user", actor="cliff"),
        "X-Dev-Organizations": str(t.org.id),
    }
    http.get(f"/organizations/{t.org.id}/history", headers=client).raise_for_status()
    first = http.get(
        "/audit-trail", headers=t.staff, params={"type": "access.recorded"}
    )
    assert first.status_code == 200, first.text
    reads = first.json()["items"]
    # The auditor's read, not the client's (staff only); the trail read
    # itself is recorded once it is answered.
    assert [(r["actor"]["id"], r["data"]["route"]) for r in reads] == [
        ("ana", "GET /organizations/{organization_id}/history")
    ]
    assert reads[0]["data"]["resource_type"] == "organization"
    assert reads[0]["data"]["resource_id"] == str(t.org.id)
    assert reads[0]["data"]["address"] == "127.0.0.1"
    again = http.get(
        "/audit-trail",
        headers=t.staff,
        params={"type": "access.recorded", "format": "jsonl"},
    )
    routes = [json.loads(x)["data"]["route"] for x in again.text.splitlines()]
    assert routes == [
        "GET /organizations/{organization_id}/history",
        "GET /audit-trail",
    ]
