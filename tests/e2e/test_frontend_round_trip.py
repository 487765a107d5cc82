"""The HTTP API driven exactly as the frontend drives it."""

from __future__ import annotations

import csv
import io
import uuid

from tests.e2e.conftest import as_user

PROBLEM = "application/problem+json"


def new_tenant() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def test_register_rename_and_read_back_with_min_position(http):
    admin = as_user(new_tenant())
    created = http.post(
        "/organizations",
        json={"name": "Acme Ltd", "country": "gb"},
        headers={**admin, "X-Request-ID": "req-e2e-1"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "version", "position"}
    assert body["version"] == 1
    assert created.headers["location"] == f"/organizations/{body['id']}"
    assert created.headers["x-request-id"] == "req-e2e-1"

    read = http.get(
        f"/organizations/{body['id']}",
        params={"min_position": body["position"]},
        headers=admin,
    )
    assert read.status_code == 200, read.text
    assert read.json()["name"] == "Acme Ltd"
    assert read.json()["country"] == "GB"
    assert read.headers["etag"] == '"1"'

    renamed = http.post(
        f"/organizations/{body['id']}/rename",
        json={"name": "Acme plc"},
        headers={**admin, "If-Match": read.headers["etag"]},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["version"] == 2
    assert renamed.json()["position"] > body["position"]

    stale = http.post(
        f"/organizations/{body['id']}/rename",
        json={"name": "Acme Group"},
        headers={**admin, "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    assert stale.json()["current_version"] == 2

    site = http.post(
        f"/organizations/{body['id']}/sites",
        json={"name": "Plant 2", "address": "2 Mill Road", "country": "IE"},
        headers={**admin, "If-Match": '"2"'},
    )
    assert site.status_code == 201, site.text

    again = http.get(
        f"/organizations/{body['id']}",
        headers={**admin, "X-Min-Position": str(site.json()["position"])},
    )
    assert again.json()["name"] == "Acme plc"
    assert again.json()["version"] == 3
    assert [s["name"] for s in again.json()["sites"]] == ["Plant 2"]
    assert again.headers["etag"] == '"3"'


def test_list_filters_and_pages_within_the_tenant(http):
    tenant = new_tenant()
    admin = as_user(tenant)
    last, ids = 0, {}
    for name, country in [
        ("Alpha", "DE"),
        ("alpine", "AT"),
        ("Beta", "DE"),
        ("ALPS", "DE"),
        ("Alp_ha", "FR"),
    ]:
        r = http.post(
            "/organizations", json={"name": name, "country": country}, headers=admin
        )
        assert r.status_code == 201, r.text
        last, ids[name] = r.json()["position"], r.json()["id"]
    first = http.get(
        "/organizations",
        params={"name_prefix": "ALP", "limit": 2, "min_position": last},
        headers=admin,
    )
    assert first.status_code == 200, first.text
    page1 = first.json()
    assert [o["name"] for o in page1["items"]] == ["Alp_ha", "Alpha"]
    assert "sites" not in page1["items"][0]
    page2 = http.get(
        "/organizations",
        params={"name_prefix": "ALP", "limit": 2, "cursor": page1["next_cursor"]},
        headers=admin,
    ).json()
    assert [o["name"] for o in page2["items"]] == ["alpine", "ALPS"]
    assert page2["next_cursor"] is None
    literal = http.get(
        "/organizations", params={"name_prefix": "alp_"}, headers=admin
    ).json()
    assert [o["name"] for o in literal["items"]] == ["Alp_ha"]
    german = http.get("/organizations", params={"country": "de"}, headers=admin).json()
    assert [o["name"] for o in german["items"]] == ["Alpha", "ALPS", "Beta"]
    client = {**admin, "X-Dev-Organizations": ids["Beta"]}
    scoped = http.get("/organizations", headers=client).json()
    assert [o["name"] for o in scoped["items"]] == ["Beta"]
    other = http.get("/organizations", headers=as_user(new_tenant())).json()
    assert other["items"] == []


def test_the_filtered_list_exports_as_csv(http):
    admin = as_user(new_tenant())
    last = 0
    for name, country in [
        ("Nordic Steel AB", "SE"),
        ("=Formula Ltd", "SE"),
        ("Elsewhere", "NO"),
    ]:
        r = http.post(
            "/organizations", json={"name": name, "country": country}, headers=admin
        )
        assert r.status_code == 201, r.text
        last = r.json()["position"]
    exported = http.get(
        "/organizations",
        params={"country": "se", "format": "csv", "min_position": last},
        headers=admin,
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="organizations.csv"' in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    assert [(r["name"], r["country"]) for r in rows] == [
        ("'=Formula Ltd", "SE"),
        ("Nordic Steel AB", "SE"),
    ]
    assert not {"tenant_id", "name_key", "sites"} & set(rows[0])
    by_accept = http.get(
        "/organizations", headers={**admin, "Accept": "text/csv"}
    ).text.splitlines()
    assert len(by_accept) == 4  # the header and the three organizations
    nothing = http.get(
        "/organizations", params={"format": "csv"}, headers=as_user(new_tenant())
    )
    assert nothing.text.splitlines() == [exported.text.splitlines()[0]]


def test_another_tenant_gets_404_for_reads_and_writes(http):
    admin = as_user(new_tenant())
    created = http.post(
        "/organizations", json={"name": "Mine", "country": "FR"}, headers=admin
    )
    org_id, position = created.json()["id"], created.json()["position"]
    http.get(
        f"/organizations/{org_id}", params={"min_position": position}, headers=admin
    )

    intruder = as_user(new_tenant())
    assert http.get(f"/organizations/{org_id}", headers=intruder).status_code == 404
    r = http.post(
        f"/organizations/{org_id}/rename", json={"name": "Yours"}, headers=intruder
    )
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM


def test_site_and_detail_changes_then_archive_make_it_read_only(http):
    admin = as_user(new_tenant())
    org = http.post(
        "/organizations", json={"name": "Lifecycle Ltd", "country": "GB"}, headers=admin
    ).json()
    base = f"/organizations/{org['id']}"
    plant = http.post(
        f"{base}/sites", json={"name": "Plant", "address": "1 Mill Rd"}, headers=admin
    ).json()
    depot = http.post(
        f"{base}/sites", json={"name": "Depot", "address": "2 Dock Rd"}, headers=admin
    ).json()
    changed = http.post(
        f"{base}/sites/{plant['site_id']}/change",
        json={"name": "Plant North", "address": "1 Mill Rd", "country": "IE"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    removed = http.post(f"{base}/sites/{depot['site_id']}/remove", headers=admin)
    assert removed.status_code == 200, removed.text
    details = http.post(
        f"{base}/change-details",
        json={"country": "IE", "registration_number": "IE-42"},
        headers=admin,
    )
    archived = http.post(f"{base}/archive", json={"reason": "left"}, headers=admin)
    assert archived.json()["version"] == 7

    read = http.get(
        base, params={"min_position": archived.json()["position"]}, headers=admin
    ).json()
    assert details.status_code == 200
    assert (read["country"], read["registration_number"], read["archived"]) == (
        "IE",
        "IE-42",
        True,
    )
    assert [(s["name"], s["country"]) for s in read["sites"]] == [("Plant North", "IE")]

    refused = http.post(f"{base}/rename", json={"name": "Back"}, headers=admin)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "organization.archived"
