"""As it was and what changed, against a real server: every version of an
audit asked ``as_of_version`` answers what the live detail answered at that
version, field for field; ``as_of`` a time answers the state then; the diff
between two versions, applied by a JSON Patch library, turns one into the
other; refusals name their parameter; scopes hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jsonpatch

from tests.e2e.conftest import as_user
from tests.e2e.test_audit_commands import AuditClient, Tenant, planned_audit, started
from tests.e2e.test_certificate_commands import Tenant as CertificateTenant
from tests.e2e.test_certificate_commands import utc_today
from tests.e2e.test_public_verification import (
    PATH,
    anonymous,
    certificates,
    issue,
    projected,
)

PROBLEM = "application/problem+json"
__all__ = ["certificates"]  # the fixture, projecting the certificates read model


class Recorder:
    """The live detail after each command, by version (the last one seen)."""

    def __init__(self, http, audit: AuditClient, headers) -> None:
        self.http, self.audit, self.headers = http, audit, headers
        self.live: dict[int, dict[str, Any]] = {}

    def record(self, position: int | None = None) -> dict[str, Any]:
        at = position if position is not None else self.audit.position
        r = self.http.get(
            self.audit.url, headers=self.headers, params={"min_position": at}
        )
        assert r.status_code == 200, r.text
        self.live[r.json()["version"]] = r.json()
        return r.json()

    def send(self, *args: Any, **kwargs: Any) -> None:
        self.audit.send(*args, **kwargs)
        self.record()


def as_of(http, url: str, headers, **params: Any):
    return http.get(url, headers=headers, params=params)


def test_every_version_as_of_is_the_live_detail_then_and_diffs_apply(http):
    people = Tenant()
    audit = planned_audit(http, people)
    rec = Recorder(http, audit, people.admin)
    rec.record()
    started(audit, people)
    rec.record()
    rec.send("assess", people.lead, {"clause_id": "8.5", "result": "conforming"})
    raised = http.post(
        f"{audit.url}/findings",
        json={
            "clause_id": "8.5",
            "grade": "minor_nonconformity",
            "description": "Calibration records missing",
            "objective_evidence": "Gauge 7",
        },
        headers={**people.lead, "If-Match": f'"{audit.version}"'},
    )
    assert raised.status_code == 201, raised.text
    audit.version, audit.position = raised.json()["version"], raised.json()["position"]
    before_evidence = rec.record()
    moment = datetime.now(UTC)
    uploaded = http.post(
        f"{audit.url}/evidence",
        files={"file": ("notes.txt", b"Calibration log", "text/plain")},
        headers=people.lead,
    )
    assert uploaded.status_code == 201, uploaded.text
    rec.record(uploaded.json()["position"])
    rec.send("assess", people.lead, {"clause_id": "8.5", "result": "nonconforming"})

    for version, live in rec.live.items():
        r = as_of(http, audit.url, people.admin, as_of_version=version)
        assert r.status_code == 200, r.text
        answer = r.json()
        stamp = answer.pop("as_of")
        assert answer == live, version
        assert stamp["version"] == version
        assert stamp["newest_version"] == audit.version
        assert "etag" not in r.headers

    # as of a time: the state then, the evidence uploaded later left out
    then = as_of(http, audit.url, people.admin, as_of=moment.isoformat())
    assert then.status_code == 200, then.text
    body = then.json()
    assert datetime.fromisoformat(body.pop("as_of")["requested"]) == moment
    assert body == before_evidence
    assert body["evidence"] == []

    # what changed: the patch from version 1 to the newest, applied
    first, newest = min(rec.live), max(rec.live)
    r = http.get(
        f"{audit.url}/history/diff",
        headers=people.admin,
        params={"from_version": first, "to_version": newest},
    )
    assert r.status_code == 200, r.text
    diff = r.json()
    assert (diff["from_state"]["version"], diff["to_state"]["version"]) == (
        first,
        newest,
    )
    assert jsonpatch.apply_patch(rec.live[first], diff["patch"]) == rec.live[newest]
    back = http.get(
        f"{audit.url}/history/diff",
        headers=people.admin,
        params={"from_version": newest, "to_version": first},
    ).json()
    assert jsonpatch.apply_patch(rec.live[newest], back["patch"]) == rec.live[first]

    _refusals(http, audit, people, rec)
    _organization_and_template(http, people, rec.live[1])


def _organization_and_template(http, people: Tenant, audit: dict[str, Any]) -> None:
    """Their newest version as of is their live detail; the organization's
    first version had no site yet, the template's first version no clause."""
    for url in (
        f"/organizations/{audit['organization_id']}",
        f"/standard-templates/{audit['standard_template_id']}",
    ):
        live = http.get(url, headers=people.admin)
        assert live.status_code == 200, live.text
        newest = as_of(http, url, people.admin, as_of_version=live.json()["version"])
        assert newest.status_code == 200, newest.text
        body = newest.json()
        assert body.pop("as_of")["version"] == live.json()["version"]
        assert body == live.json(), url
    first = as_of(
        http,
        f"/organizations/{audit['organization_id']}",
        people.admin,
        as_of_version=1,
    ).json()
    assert (first["version"], first["sites"]) == (1, [])
    template = as_of(
        http,
        f"/standard-templates/{audit['standard_template_id']}",
        people.admin,
        as_of_version=1,
    ).json()
    assert (template["version"], template["draft_clauses"], template["versions"]) == (
        1,
        [],
        [],
    )


def _refusals(http, audit: AuditClient, people: Tenant, rec: Recorder) -> None:
    created = datetime.fromisoformat(rec.live[1]["created_at"])
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({"as_of": (created - timedelta(seconds=1)).isoformat()}, 404, None),
        ({"as_of": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, 400, "as_of"),
        ({"as_of": "2026-01-01T00:00:00"}, 400, "as_of"),
        ({"as_of": "yesterday"}, 400, "as_of"),
        ({"as_of_version": 1, "as_of": created.isoformat()}, 400, "as_of_version"),
        ({"as_of_version": audit.version + 1}, 400, "as_of_version"),
        ({"as_of_version": 0}, 422, "as_of_version"),
    ]
    for params, status, field in cases:
        r = as_of(http, audit.url, people.admin, **params)
        assert r.status_code == status, (params, r.text)
        assert r.headers["content-type"] == PROBLEM
        if field is not None:
            assert [e["field"] for e in r.json()["errors"]] == [field], r.text
    diff = http.get(
        f"{audit.url}/history/diff",
        headers=people.admin,
        params={"from_version": 1, "to_version": audit.version + 1},
    )
    assert diff.status_code == 400, diff.text
    assert diff.json()["errors"][0]["field"] == "to_version"
    # another tenant's id is not found, as it is live
    stranger = as_user("e2e-as-of-stranger", "tenant_admin")
    for url, params in (
        (audit.url, {"as_of_version": 1}),
        (f"{audit.url}/history/diff", {"from_version": 1, "to_version": 2}),
    ):
        r = http.get(url, headers=stranger, params=params)
        assert r.status_code == 404, r.text


def test_a_certificate_is_verified_as_it_stood_on_a_date(http, certificates):
    tenant = CertificateTenant(certificates)
    issued = issue(http, tenant)  # in effect from five days ago
    url = f"/certificates/{issued['id']}"
    suspended = http.post(
        f"{url}/suspend",
        json={"reason": "Surveillance audit not held", "max_suspension_days": 90},
        headers={**tenant.manager, "If-Match": '"1"'},
    )
    assert suspended.status_code == 200, suspended.text
    projected(certificates, suspended.json()["position"])
    printed = {"number": issued["number"], "code": issued["verification_code"]}

    def verify(day, status=200):
        body = {**printed, **({} if day is None else {"on_date": day.isoformat()})}
        r = http.post(PATH, json=body, headers=anonymous())
        assert r.status_code == status, r.text
        return r.json()

    today = utc_today()
    now, before = verify(None), verify(today - timedelta(days=2))
    assert now["status"] == "suspended"
    assert before["status"] == "active"  # the later suspension leaves it as it was
    assert {k: v for k, v in before.items() if k != "status"} == {
        k: v for k, v in now.items() if k != "status"
    }
    assert verify(today)["status"] == "suspended"
    verify(today - timedelta(days=6), 404)
    tomorrow = verify(today + timedelta(days=1), 400)
    assert [e["field"] for e in tomorrow["errors"]] == ["on_date"]

    # staff: the same answers without the code; as_of_version of the registry
    staff = http.get(
        f"{url}/verification",
        headers=tenant.manager,
        params={"on_date": (today - timedelta(days=2)).isoformat()},
    )
    assert staff.status_code == 200, staff.text
    assert staff.json() == before
    stranger = as_user("e2e-as-of-stranger", "tenant_admin")
    assert http.get(f"{url}/verification", headers=stranger).status_code == 404
    first = http.get(url, headers=tenant.manager, params={"as_of_version": 1}).json()
    assert (first["status"], first["as_of"]["newest_version"]) == ("active", 2)
