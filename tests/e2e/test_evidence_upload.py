"""Evidence uploads over HTTP: multipart, sniffed, content-addressed."""

from __future__ import annotations

import uuid
from datetime import date

from domain.audit import Audit
from domain.events import EventMeta
from tests.e2e.conftest import api_with, as_user

PDF = b"%PDF-1.7\n" + b"0123456789" * 500


def planned_audit(container, tenant: str) -> Audit:
    audit = Audit.plan(
        EventMeta(tenant, "pm", "req", "req"),
        organization_id=uuid.uuid4(),
        site_ids=(uuid.uuid4(),),
        standard_template_id=uuid.uuid4(),
        standard_version=1,
        standard_name="ISO 14001",
        standard_edition="2015",
        audit_type="stage_1",
        planned_start=date(2026, 12, 1),
        planned_end=date(2026, 12, 3),
        scope_statement="Waste handling",
    )
    container.event_store.append(audit)
    return audit


def test_an_upload_answers_its_hash_and_type_and_refuses_other_types(http, pipeline):
    tenant = f"e2e-ev-{uuid.uuid4().hex[:8]}"
    audit = planned_audit(pipeline, tenant)
    auditor = as_user(tenant, "auditor")
    url = f"/audits/{audit.id}/evidence"
    ok = http.post(
        url, files={"file": ("notes.bin", PDF, "image/gif")}, headers=auditor
    )
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert body["media_type"] == "application/pdf"
    assert body["size"] == len(PDF)
    assert len(body["sha256"]) == 64
    exe = b"MZ\x90\x00" + b"\x00" * 64
    refused = http.post(
        url, files={"file": ("report.pdf", exe, "application/pdf")}, headers=auditor
    )
    assert refused.status_code == 415
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "evidence.media_type_refused"
    other = http.post(
        url, files={"file": ("a.pdf", PDF)}, headers=as_user("e2e-ev-other", "auditor")
    )
    assert other.status_code == 404


def test_uploaded_evidence_is_listed_on_its_audit_and_downloads_as_uploaded(
    http, pipeline
):
    tenant = f"e2e-ev-{uuid.uuid4().hex[:8]}"
    audit = planned_audit(pipeline, tenant)
    auditor = as_user(tenant, "auditor")
    up = http.post(
        f"/audits/{audit.id}/evidence",
        files={"file": ("calibration log.pdf", PDF, "application/pdf")},
        headers=auditor,
    )
    assert up.status_code == 201, up.text
    body = up.json()
    evidence_id, position = body["id"], body["position"]
    path = f"/audits/{audit.id}/evidence/{evidence_id}"
    assert up.headers["location"] == path

    record = http.get(path, params={"min_position": position}, headers=auditor)
    assert record.status_code == 200, record.text
    assert record.json()["file_name"] == "calibration log.pdf"
    assert record.headers["etag"] == f'"{body["sha256"]}"'
    detail = http.get(f"/audits/{audit.id}", headers=auditor).json()
    assert [e["id"] for e in detail["evidence"]] == [evidence_id]

    content = http.get(f"{path}/content", headers=auditor)
    assert content.status_code == 200
    assert content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert "calibration log.pdf" in content.headers["content-disposition"]

    stranger = as_user(f"{tenant}-other", "auditor")
    assert http.get(f"{path}/content", headers=stranger).status_code == 404
    wrong_audit = f"/audits/{uuid.uuid4()}/evidence/{evidence_id}/content"
    assert http.get(wrong_audit, headers=auditor).status_code == 404


def test_an_upload_over_the_limit_is_413(migrated):
    tenant = f"e2e-ev-{uuid.uuid4().hex[:8]}"
    with api_with(migrated, upload_max_bytes=4096) as (client, container):
        audit = planned_audit(container, tenant)
        r = client.post(
            f"/audits/{audit.id}/evidence",
            files={"file": ("big.pdf", b"%PDF-" + b"x" * 200_000)},
            headers=as_user(tenant, "auditor"),
        )
    assert r.status_code == 413
    assert r.json()["code"] == "payload-too-large"
