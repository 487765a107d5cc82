"""History entries, their redaction, the parsing of history requests and
which reads are recorded: no services needed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute

from domain.access_record import QUERY_MAX, AccessRecord
from domain.events import EventMeta
from domain.principal import Principal, Role
from infra.errors import DependencyUnavailableError
from infra.history.catalog import catalog
from infra.history.reader import Viewer, _public
from infra.streaming.public_events import to_envelope
from projections.listing import InvalidCursorError, InvalidFilterValueError
from read_api.access_recording import (
    AccessRecordingMiddleware,
    read_to_record,
    recorded,
)
from read_api.history_query import HistoryFormat, parse_history

META = EventMeta("acme", "ana", "req-1", "req-1")


def _entry(viewer: Viewer, names=None):
    record = AccessRecord.record(
        META, "GET /audit-trail", "/audit-trail", "type=x", None, "203.0.113.9"
    )
    event = record.collect_events()[0]
    envelope = to_envelope(event, 42, "/assurehub")
    kind = catalog().kind("domain.access_record:AccessRecord.Recorded", event)
    return _public(envelope, 1, kind.personal, names or {"ana": "Ana"}, viewer)


def test_an_access_record_holds_the_read_and_cuts_long_queries():
    record = AccessRecord.record(
        META, "GET /x", "/x", "q" * (QUERY_MAX + 50), ("audit", "a1"), None
    )
    (event,) = record.collect_events()
    assert isinstance(event, AccessRecord.Recorded)
    assert event.TYPE == "access.recorded"
    assert len(event.query) == QUERY_MAX
    assert event.query.endswith("…")
    assert (event.resource_type, event.resource_id) == ("audit", "a1")
    assert frozenset({"address"}) == AccessRecord.Recorded.PERSONAL


def test_other_peoples_personal_fields_are_redacted_without_the_permission():
    entry = _entry(Viewer("someone-else", sees_personal=False))
    assert entry["data"]["address"] is None
    assert entry["redacted"] == ["address"]
    assert entry["actor"] == {"id": "ana", "name": None}
    assert entry["data"]["route"] == "GET /audit-trail"
    assert entry["type"] == "access.recorded"
    assert entry["public_type"] == "assurehub.access.recorded.v1"
    assert (entry["position"], entry["version"]) == (42, 1)


def test_personal_fields_are_shown_to_their_owner_and_to_those_allowed():
    own = _entry(Viewer("ana", sees_personal=False))
    assert own["data"]["address"] == "203.0.113.9"
    assert own["redacted"] == []
    assert own["actor"]["name"] == "Ana"
    allowed = _entry(Viewer("cora", sees_personal=True))
    assert allowed["data"]["address"] == "203.0.113.9"
    assert allowed["actor"]["name"] == "Ana"


def _parse(**given):
    args = dict.fromkeys(
        ("types", "recorded_from", "recorded_to", "actor", "limit", "cursor", "fmt")
    )
    return parse_history(**{**args, **given})


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "٣"}, "limit"),
        ({"types": ["audit.nope"]}, "type"),
        ({"recorded_from": "yesterday"}, "recorded_from"),
        ({"recorded_to": "2026-03-01T00:00:00"}, "recorded_to"),
        (
            {
                "recorded_from": "2026-03-02T00:00:00Z",
                "recorded_to": "2026-03-01T00:00:00Z",
            },
            "recorded_to",
        ),
        ({"fmt": "xml"}, "format"),
        ({"fmt": "jsonl", "limit": "10"}, "limit"),
    ],
)
def test_bad_history_parameters_are_refused_naming_the_field(given, field):
    with pytest.raises(InvalidFilterValueError) as refused:
        _parse(**given)
    assert refused.value.parameter == field


@pytest.mark.parametrize("cursor", ["abc", "-1", "0", "9" * 30])
def test_a_cursor_this_api_did_not_issue_is_refused(cursor):
    with pytest.raises(InvalidCursorError):
        _parse(cursor=cursor)


def test_history_parameters_parse_into_a_query():
    parsed = _parse(
        types=["audit.planned,audit.started"],
        recorded_from="2026-03-01T00:00:00Z",
        actor="ana",
        limit="200",
        cursor="12",
    )
    assert parsed.query.types == ("audit.planned", "audit.started")
    assert parsed.query.recorded_from == datetime(2026, 3, 1, tzinfo=UTC)
    assert (parsed.query.after, parsed.query.limit) == (12, 200)
    assert parsed.format is HistoryFormat.JSON
    exported = _parse(fmt="csv")
    assert exported.query.limit is None
    assert exported.format is HistoryFormat.CSV


def _scope(route: APIRoute, query: bytes, method: str = "GET"):
    audit = uuid4()
    return {
        "type": "http",
        "method": method,
        "route": route,
        "path": f"/audits/{audit}",
        "path_params": {"audit_id": audit},
        "query_string": query,
        "client": ("198.51.100.4", 5000),
    }, audit


def _routes():
    app = FastAPI()

    @app.get("/audits/{audit_id}")
    async def detail(audit_id: str) -> None: ...

    @app.get("/audits/{audit_id}/history", openapi_extra=recorded("audit"))
    async def history(audit_id: str) -> None: ...

    found = {r.path: r for r in app.routes if isinstance(r, APIRoute)}
    return found["/audits/{audit_id}"], found["/audits/{audit_id}/history"]


def test_as_of_reads_of_any_detail_are_recorded_by_their_parameter():
    detail, _ = _routes()
    scope, audit = _scope(detail, b"as_of=2026-03-01T00:00:00Z")
    read = read_to_record(scope)
    assert read is not None
    assert read.route == "GET /audits/{audit_id}"
    assert read.resource == ("audit", str(audit))
    assert read.query == "as_of=2026-03-01T00:00:00Z"
    assert read.address == "198.51.100.4"
    assert read_to_record(_scope(detail, b"as_of_version=3")[0]) is not None
    assert read_to_record(_scope(detail, b"")[0]) is None
    assert read_to_record(_scope(detail, b"as_of=x", method="POST")[0]) is None


def test_routes_that_declare_it_are_recorded_without_parameters():
    _, history = _routes()
    scope, audit = _scope(history, b"")
    read = read_to_record(scope)
    assert read is not None
    assert read.resource == ("audit", str(audit))


class _Records:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.reads: list[tuple[str, str]] = []

    def record_read(self, principal, correlation_id, read) -> int:
        if self.fail:
            raise DependencyUnavailableError("postgres", "connection refused")
        self.reads.append((principal.actor_id, read.route))
        return 1


def _recording_app(records: _Records, roles: frozenset[Role]) -> FastAPI:
    app = FastAPI()

    async def caller(request: Request) -> Principal:
        request.state.principal = Principal("acme", "ana", roles)
        return request.state.principal

    @app.get("/things/{thing_id}/history", openapi_extra=recorded("thing"))
    async def history(thing_id: str, _: Principal = Depends(caller)) -> dict:  # noqa: B008
        return {"items": [thing_id]}

    app.add_middleware(AccessRecordingMiddleware, service=records)
    return app


def _get(app: FastAPI) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/things/t1/history")

    return asyncio.run(run())


def test_a_read_that_cannot_be_recorded_is_not_answered():
    records = _Records(fail=True)
    answer = _get(_recording_app(records, frozenset({Role.AUDITOR})))
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "t1" not in answer.text


def test_staff_reads_are_recorded_and_client_reads_are_not():
    records = _Records(fail=False)
    assert _get(_recording_app(records, frozenset({Role.AUDITOR}))).status_code == 200
    assert records.reads == [("ana", "GET /things/{thing_id}/history")]
    client = _Records(fail=True)  # would refuse, were it asked
    answer = _get(_recording_app(client, frozenset({Role.CLIENT_USER})))
    assert answer.json() == {"items": ["t1"]}
