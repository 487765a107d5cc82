"""Every query answers exactly what its OpenAPI entry documents: each field
of the model, of its type, and nothing else, over a world that holds a record
of every kind (with audit and finding histories filled in); a list's CSV
export has the model's fields as its columns."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from domain.audit import Audit
from domain.audit_values import AuditStatus
from domain.events import EventMeta
from tests.e2e.conftest import as_user
from tests.e2e.test_queries import read
from tests.e2e.world import PDF, World, build_world, new_tenant, path_values
from tests.openapi_answers import answer_validator, json_answer_schema, resolve

READER = ("tenant_admin", "compliance_officer")
"""Roles that together may read every query route."""


def with_histories(pipeline, world: World) -> int:
    """Reopen the decided audit (closed once a decision was taken, so it has
    a past decision and a reopening) and regrade the running audit's finding,
    so that no nested list is empty."""
    store = pipeline.event_store
    meta = EventMeta(world.tenant, "setup", "e2e-setup", "e2e-setup")
    decided = store.load(Audit, world.decided_audit)
    if decided.status is not AuditStatus.CLOSED:
        decided.close(meta)
    decided.reopen(meta, "Scope extended to a new site")
    running = store.load(Audit, world.audit)
    running.regrade_finding(meta, world.finding, "major_nonconformity", "Systemic")
    return int(store.append(decided, running))


@pytest.fixture(scope="module")
def answers(base_url, pipeline):
    """``(spec, world, position, client)`` for one world read by every test."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        world = build_world(client, pipeline, new_tenant("answers"))
        position = max(world.position, with_histories(pipeline, world))
        spec = client.get("/openapi.json").json()
        yield spec, world, position, client


def queries(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(path, ops["get"]) for path, ops in spec["paths"].items() if "get" in ops]


def reader(world: World) -> dict[str, str]:
    return as_user(world.tenant, *READER, actor=str(world.account))


def required_query(op: dict[str, Any], world: World) -> dict[str, str] | None:
    """The world's values for the query parameters ``op`` requires (the
    public verification link's number and code), or ``None`` if none."""
    names = [
        p["name"]
        for p in op.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    ]
    if not names:
        return None
    known = {
        "number": world.certificate_number,
        "code": world.verification_code,
        "from_version": "1",
        "to_version": "2",
    }
    return {name: known[name] for name in names}


def takes_min_position(op: dict[str, Any]) -> bool:
    return any(p["name"] == "min_position" for p in op.get("parameters", []))


def is_list(op: dict[str, Any]) -> bool:
    return any(p["name"] == "cursor" for p in op.get("parameters", []))


def test_every_json_answer_is_exactly_its_documented_model(answers):
    spec, world, position, client = answers
    checked = []
    for path, op in queries(spec):
        if "application/json" not in op["responses"]["200"].get("content", {}):
            continue
        url = path.format(**path_values(path, world))
        params = required_query(op, world)
        if params is not None and not op.get("security"):
            r = client.get(url, params=params)  # a public link: its own parameters
        elif takes_min_position(op):
            r = read(client, url, reader(world), position, **(params or {}))
        else:  # reads no read model (the published log keys)
            r = client.get(url, headers=reader(world), params=params)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"] == "application/json", path
        body = r.json()
        schema = json_answer_schema(spec, path, "get")
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in answer_validator(spec, schema).iter_errors(body)
        ]
        assert errors == [], (path, errors)
        if is_list(op):
            assert body["items"], f"{path}: an empty page proves nothing"
        checked.append(path)
    assert len(checked) >= 22, checked


def test_nested_histories_are_answered_as_documented(answers):
    _, world, position, client = answers
    audit = read(client, f"/audits/{world.decided_audit}", reader(world), position)
    assert audit.status_code == 200, audit.text
    body = audit.json()
    assert [d["outcome"] for d in body["past_decisions"]] == ["grant"]
    assert body["reopenings"][0]["reason"] == "Scope extended to a new site"
    assert body["reviews"][0]["outcome"] == "approved"
    finding = read(
        client,
        f"/audits/{world.audit}/findings/{world.finding}",
        reader(world),
        position,
    )
    assert finding.status_code == 200, finding.text
    [regrade] = finding.json()["regrades"]
    assert (regrade["from"], regrade["to"]) == (
        "minor_nonconformity",
        "major_nonconformity",
    )
    assert finding.json()["response"]["root_cause"] == "Oversight"


def test_every_csv_export_has_the_rows_fields_as_columns(answers):
    spec, world, position, client = answers
    exports = [(path, op) for path, op in queries(spec) if is_list(op)]
    assert len(exports) >= 8
    for path, op in exports:
        assert "text/csv" in op["responses"]["200"]["content"], path
        url = path.format(**path_values(path, world))
        r = read(client, url, reader(world), position, format="csv")
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"] == "text/csv; charset=utf-8", path
        header, *rows = list(csv.reader(io.StringIO(r.text, newline="")))
        page = resolve(spec, json_answer_schema(spec, path, "get"))
        row = resolve(spec, page["properties"]["items"]["items"])
        assert header == list(row["properties"]), path
        assert rows, path


def test_the_evidence_content_is_the_uploaded_bytes(answers):
    spec, world, position, client = answers
    path = "/audits/{audit_id}/evidence/{evidence_id}/content"
    documented = spec["paths"][path]["get"]["responses"]["200"]["content"]
    assert documented == {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    url = path.format(**path_values(path, world))
    r = read(client, url, reader(world), position)
    assert r.status_code == 200, r.text
    assert r.content == PDF
    assert r.headers["content-type"] == "application/pdf"


def test_a_detail_asked_for_a_time_before_it_existed_is_not_found(answers):
    _, world, position, client = answers
    url = f"/audits/{world.audit}"
    past = read(client, url, reader(world), position, as_of="2000-01-01T00:00:00Z")
    assert past.status_code == 404, past.text
    assert read(client, url, reader(world), position).status_code == 200


def test_a_detail_refuses_a_parameter_it_does_not_take(answers):
    _, world, position, client = answers
    url = f"/audits/{world.audit}"
    odd = read(client, url, reader(world), position, at="2026-01-01T00:00:00Z")
    assert odd.status_code == 400, odd.text
    assert odd.json()["code"] == "unknown-parameter"
    assert odd.json()["allowed"] == ["as_of", "as_of_version", "min_position"]
