"""Standard and document templates, commanded over HTTP."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import as_user

PROBLEM = "application/problem+json"


def tenant_admin():
    return as_user(f"e2e-tpl-{uuid.uuid4().hex[:8]}")


def test_a_standard_template_is_drafted_published_and_redrafted(http):
    admin = tenant_admin()
    created = http.post(
        "/standard-templates",
        json={"standard_name": "ISO 9001", "edition": "2015", "title": "QMS"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    base = created.headers["location"]
    for clause in (
        {"clause_id": "8", "title": "Operation", "text": "Operational planning"},
        {
            "clause_id": "8.5",
            "title": "Production",
            "text": "Control",
            "parent_id": "8",
        },
    ):
        r = http.post(f"{base}/clauses", json=clause, headers=admin)
        assert r.status_code == 201, r.text
    changed = http.patch(
        f"{base}/clauses/8.5",
        json={"title": "Production and service", "text": "Control of provision"},
        headers={**admin, "If-Match": r.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    refused = http.post(f"{base}/clauses/8/remove", headers=admin)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "standard_template.clause_has_children"

    published = http.post(f"{base}/publish", headers=admin)
    assert published.status_code == 200, published.text
    assert published.json()["template_version"] == 1
    no_draft = http.post(
        f"{base}/clauses",
        json={"clause_id": "9", "title": "T", "text": "X"},
        headers=admin,
    )
    assert no_draft.json()["code"] == "standard_template.no_draft"
    assert http.post(f"{base}/new-draft", headers=admin).status_code == 200
    assert http.post(f"{base}/retire", headers=admin).status_code == 200


def test_a_document_template_is_created_revised_and_retired(http):
    admin = tenant_admin()
    layout = {
        "title": "Audit report",
        "branding": "ACME Certification Ltd",
        "sections": ["summary", "scope", "findings"],
        "signature_block": "Lead auditor",
    }
    created = http.post(
        "/document-templates", json={"kind": "audit_report", **layout}, headers=admin
    )
    assert created.status_code == 201, created.text
    base = created.headers["location"]
    same = http.post(f"{base}/revise", json=layout, headers=admin)
    assert same.status_code == 409
    assert same.json()["code"] == "document_template.unchanged"
    revised = http.post(
        f"{base}/revise", json={**layout, "sections": ["summary"]}, headers=admin
    )
    assert revised.json()["version"] == 2
    assert http.post(f"{base}/retire", headers=admin).status_code == 200
    after = http.post(f"{base}/revise", json=layout, headers=admin)
    assert after.json()["code"] == "document_template.retired"


def test_template_input_is_validated_and_permissions_are_enforced(http):
    admin = tenant_admin()
    wrong_section = http.post(
        "/document-templates",
        json={
            "kind": "certificate",
            "title": "Certificate",
            "branding": "ACME",
            "sections": ["findings"],
            "signature_block": "CEO",
        },
        headers=admin,
    )
    assert wrong_section.status_code == 422
    assert {e["field"] for e in wrong_section.json()["errors"]} == {"sections"}
    bad_clause = http.post(
        f"/standard-templates/{uuid.uuid4()}/clauses",
        json={"clause_id": "no spaces", "title": "T", "text": "X"},
        headers=admin,
    )
    assert bad_clause.status_code == 422
    auditor = as_user("e2e-tpl", "auditor")
    forbidden = http.post(
        "/standard-templates",
        json={"standard_name": "ISO 27001", "edition": "2022", "title": "ISMS"},
        headers=auditor,
    )
    assert forbidden.status_code == 403
