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
