"""Public certificate verification over HTTP, as a customer would use it.

Certificates are issued through the API (their audits recorded as in
``test_certificate_commands``) and reach the ``certificates`` read model
through Kafka. That projection is not in the runner registry yet; until it is,
this module runs one ``certificates`` runner of its own next to the pipeline.

Requests carry no caller headers. Each sets its own ``X-Forwarded-For`` (the
test server trusts loopback proxies, as uvicorn does by default), so the
per-address limit of one test never counts another's attempts.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from infra.bootstrap import Container
from infra.postgres.projection_schemas import ensure_schemas
from infra.projection.registry import READ_MODELS
from projections.certificates import CertificateProjection
from tests.conftest import Background
from tests.e2e.test_certificate_commands import Tenant, utc_today

PATH = "/public/certificate-verifications"
FIELDS = {
    "number", "status", "holder", "standard", "edition", "scopes",
    "effective_date", "expiry_date", "revision", "superseded",
}  # fmt: skip


@pytest.fixture(scope="module")
def certificates(pipeline: Container) -> Iterator[Container]:
    """The pipeline, with the certificates read model being projected."""
    projection = CertificateProjection()
    if projection.name in {p.name for p in READ_MODELS}:
        yield pipeline
        return
    ensure_schemas(pipeline.database, (projection,), True)
    background = Background()
    runner = pipeline.runner(projection, group=f"e2e.verify.{uuid.uuid4().hex[:8]}")
    background.start(runner.run, "certificates")
    yield pipeline
    background.close()


def projected(container: Container, position: int) -> None:
    deadline = time.monotonic() + 60
    for projection in ("certificates", "organizations"):
        while not container.progress.has_reached(projection, position):
            assert time.monotonic() < deadline, f"{projection} did not reach {position}"
            time.sleep(0.05)


def anonymous() -> dict[str, str]:
    """No caller headers; a client address of its own."""
    return {
        "X-Forwarded-For": f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"
    }


def issue(http, tenant: Tenant) -> dict:
    decided = utc_today() - timedelta(days=5)
    audit = tenant.granted_audit("stage_2", decided)
    issued = http.post(
        "/certificates", json=tenant.terms(audit, decided), headers=tenant.decider
    )
    assert issued.status_code == 201, issued.text
    return issued.json()


def test_the_printed_number_and_code_verify_any_tenants_certificate(http, certificates):
    first, second = Tenant(certificates), Tenant(certificates)
    mine, theirs = issue(http, first), issue(http, second)
    projected(certificates, theirs["position"])
    client = anonymous()

    answer = http.post(
        PATH,
        json={"number": mine["number"], "code": mine["verification_code"]},
        headers=client,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert set(body) == FIELDS
    effective = utc_today() - timedelta(days=5)
    assert body == {
        "number": mine["number"],
        "status": "active",
        "holder": "Pumps Ltd",
        "standard": "ISO 9001",
        "edition": "2015",
        "scopes": [
            {"site": "North", "scope": "Manufacture of pumps"},
            {"site": "South", "scope": "Manufacture of pumps"},
        ],
        "effective_date": effective.isoformat(),
        "expiry_date": (effective + timedelta(days=3 * 365)).isoformat(),
        "revision": 1,
        "superseded": False,
    }
    typed = "-".join(
        theirs["verification_code"].lower()[i : i + 4] for i in (0, 4, 8, 12, 16)
    )
    other = http.post(
        PATH, json={"number": theirs["number"].lower(), "code": typed}, headers=client
    )
    assert other.status_code == 200, other.text
    assert other.json()["number"] == theirs["number"]
    for response in (answer, other):
        for secret in (first.id, second.id, mine["id"], theirs["id"]):
            assert secret not in response.text
        assert str(first.organization.id) not in response.text


def test_a_wrong_code_and_an_unknown_number_get_the_same_404(http, certificates):
    tenant = Tenant(certificates)
    mine = issue(http, tenant)
    projected(certificates, mine["position"])
    code = mine["verification_code"]
    wrong_code = http.post(
        PATH, json={"number": mine["number"], "code": code[::-1]}, headers=anonymous()
    )
    unknown = http.post(
        PATH, json={"number": "ZZ-2026-999999", "code": code}, headers=anonymous()
    )
    for refused in (wrong_code, unknown):
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["cache-control"] == "no-store"
    assert wrong_code.json() == unknown.json()
    assert wrong_code.json()["code"] == "certificate-not-verified"
    assert mine["number"] not in wrong_code.text


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"number": "ACME-2026-000123"}, {"code"}),
        ({"code": "ABCDEFGHJKMNPQRSTUVW"}, {"number"}),
        ({"number": "../etc/passwd", "code": "ABCDEFGHJKMNPQRSTUVW"}, {"number"}),
        ({"number": "ACME-2026-000123", "code": "x" * 41}, {"code"}),
        ({"number": "ACME-2026-000123", "code": "<script>alert(1)</script>"}, {"code"}),
    ],
)
def test_missing_or_malformed_fields_are_named_in_a_422(http, base_url, body, fields):
    refused = http.post(PATH, json=body, headers=anonymous())
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == fields


def test_attempts_beyond_the_limits_get_429_with_retry_after(http, base_url):
    client = anonymous()
    for i in range(10):
        guess = {"number": f"RL{uuid.uuid4().hex[:8].upper()}-2026-{i:06d}",
                 "code": "ABCDEFGHJKMNPQRSTUVW"}  # fmt: skip
        assert http.post(PATH, json=guess, headers=client).status_code == 404
    limited = http.post(PATH, json=guess, headers=client)
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["code"] == "rate-limited"

    number = f"RL{uuid.uuid4().hex[:8].upper()}-2026-000001"
    guess = {"number": number, "code": "ABCDEFGHJKMNPQRSTUVW"}
    for _ in range(20):  # each from another address
        assert http.post(PATH, json=guess, headers=anonymous()).status_code == 404
    per_number = http.post(PATH, json=guess, headers=anonymous())
    assert per_number.status_code == 429
    assert 60 < int(per_number.headers["retry-after"]) <= 3600


def test_an_old_revision_shows_superseded_once_revised(http, certificates):
    tenant = Tenant(certificates)
    first = issue(http, tenant)
    projected(certificates, first["position"])
    old = {"number": first["number"], "code": first["verification_code"]}
    before = http.post(PATH, json=old, headers=anonymous())
    assert before.json()["superseded"] is False  # and now cached

    renewal = tenant.granted_audit("recertification", utc_today() - timedelta(days=1))
    revised = http.post(
        f"/certificates/{first['id']}/revise",
        json=tenant.terms(renewal, utc_today(), tenant.sites[0]),
        headers=tenant.decider,
    )
    assert revised.status_code == 201, revised.text
    second = revised.json()
    projected(certificates, second["position"])
    after = http.post(PATH, json=old, headers=anonymous()).json()
    assert (after["revision"], after["superseded"], after["status"]) == (
        1,
        True,
        "superseded",
    )
    new = {"number": first["number"], "code": second["verification_code"]}
    current = http.post(PATH, json=new, headers=anonymous()).json()
    assert (current["revision"], current["superseded"]) == (2, False)
    assert current["scopes"] == [{"site": "North", "scope": "Manufacture of pumps"}]


def test_the_link_form_answers_what_the_post_answers(http, certificates):
    tenant = Tenant(certificates)
    mine = issue(http, tenant)
    projected(certificates, mine["position"])
    printed = {"number": mine["number"], "code": mine["verification_code"]}
    posted = http.post(PATH, json=printed, headers=anonymous())
    linked = http.get(PATH, params=printed, headers=anonymous())
    assert linked.status_code == 200, linked.text
    assert linked.json() == posted.json()
    assert linked.headers["cache-control"] == "no-store"
    assert linked.headers["referrer-policy"] == "no-referrer"
    wrong = http.get(
        PATH,
        params={**printed, "code": printed["code"][::-1]},
        headers=anonymous(),
    )
    assert wrong.status_code == 404
    assert wrong.json()["code"] == "certificate-not-verified"


def test_the_link_form_names_malformed_fields_and_shares_the_limit(http, base_url):
    malformed = http.get(
        PATH, params={"number": "../etc/passwd", "code": "x"}, headers=anonymous()
    )
    assert malformed.status_code == 422
    assert {e["field"] for e in malformed.json()["errors"]} == {"number", "code"}

    client = anonymous()
    for i in range(5):
        guess = {"number": f"LK{uuid.uuid4().hex[:8].upper()}-2026-{i:06d}",
                 "code": "ABCDEFGHJKMNPQRSTUVW"}  # fmt: skip
        assert http.post(PATH, json=guess, headers=client).status_code == 404
        assert http.get(PATH, params=guess, headers=client).status_code == 404
    limited = http.get(PATH, params=guess, headers=client)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate-limited"
