"""Documents over HTTP: asking for an audit report, the read model and the
download, and who sees which document. The document processor is played by
its commands (``record_rendered`` after putting the bytes in the file store),
as it will call them."""

from __future__ import annotations

import io
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx
import pytest

from commands.context import CommandContext
from commands.documents import RecordRendered, RequestCertificateDocument
from domain.document_template import DocumentTemplate
from domain.events import EventMeta
from domain.organization import Organization
from domain.principal import Principal
from domain.standard_template import StandardTemplate
from tests.e2e.conftest import as_user
from tests.e2e.world import started_audit, utc_today

PROBLEM = "application/problem+json"
PDF = b"%PDF-1.7\n" + "Łódź Göteborg İstanbul ".encode() * 200
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FILE_NAME = "ISO-9001-stage-2-Łódź-Valves-2026-12-04.pdf"
WAIT_SECONDS = 60


@dataclass(frozen=True)
class Scene:
    """One tenant's organization with an audit under way and a decided one,
    a report template (two versions), a certificate template and a retired
    report template."""

    tenant: str
    organization: UUID
    site: UUID
    running: UUID
    decided: UUID
    report_template: UUID
    certificate_template: UUID
    retired_template: UUID

    def manager(self) -> dict[str, str]:
        return as_user(self.tenant, "programme_manager", actor="mia")

    def client(self, organization: UUID | None = None) -> dict[str, str]:
        return {
            **as_user(self.tenant, "client_user", actor="cleo"),
            "X-Dev-Organizations": str(organization or self.organization),
        }


def build_scene(pipeline, label: str) -> Scene:
    tenant = f"e2e-doc-{label}-{uuid.uuid4().hex[:8]}"
    meta = EventMeta(tenant, "setup", "e2e-setup", "e2e-setup")
    organization = Organization.register(meta, "Łódź Valves", "PL")
    site = organization.add_site(meta, "Łódź", "ul. Piotrkowska 1")
    standard = StandardTemplate.draft(meta, "ISO 9001", "2015", "QMS")
    standard.add_clause(meta, "8", "Operation", "Planning")
    standard.publish(meta, utc_today() - timedelta(days=60))
    report = DocumentTemplate.create(
        meta, "audit_report", "Report", "ACME", ("summary",), "Sig"
    )
    report.revise(meta, "Report", "ACME", ("summary", "findings"), "Sig")
    certificate = DocumentTemplate.create(
        meta, "certificate", "Certificate", "ACME", ("holder",), "Sig"
    )
    retired = DocumentTemplate.create(
        meta, "audit_report", "Old report", "ACME", ("scope",), "Sig"
    )
    retired.retire(meta, utc_today())
    today = utc_today()
    running = started_audit(meta, organization.id, (site,), standard.id, today)
    decided = started_audit(meta, organization.id, (site,), standard.id, today)
    decided.assess_requirement(meta, "8", "conforming")
    decided.draft_report(meta, "No nonconformities")
    decided.submit_for_review(meta, "rita")
    decided.approve_review(EventMeta(tenant, "rita", "e2e", "e2e"))
    decided.record_decision(meta, "dmitri", "grant", "Meets ISO 9001", today)
    pipeline.event_store.append(
        organization, standard, report, certificate, retired, running, decided
    )
    return Scene(
        tenant,
        organization.id,
        site,
        running.id,
        decided.id,
        report.id,
        certificate.id,
        retired.id,
    )


@pytest.fixture(scope="module")
def scene(pipeline) -> Scene:
    return build_scene(pipeline, "a")


def ask(http: httpx.Client, scene: Scene, audit: UUID, **body: Any) -> httpx.Response:
    payload = {"kind": "audit_report", "template_id": str(scene.report_template)}
    return http.post(
        f"/audits/{audit}/documents",
        json={**payload, "format": "pdf", **body},
        headers=scene.manager(),
    )


def system(scene: Scene) -> CommandContext:
    principal = Principal.for_system(scene.tenant, "system:documents")
    return CommandContext(principal, f"e2e-processor-{uuid.uuid4().hex}")


def render(pipeline, scene: Scene, document_id: str, content: bytes = PDF) -> int:
    """What the processor does once it rendered ``content``: store it, then
    record it. Returns the position to read it at."""
    stored = pipeline.files.put(io.BytesIO(content), 10_000_000)
    accepted = pipeline.services.documents.record_rendered(
        system(scene),
        RecordRendered(UUID(document_id), stored.sha256, stored.size, 3, FILE_NAME),
    )
    return accepted.position


def read(
    http: httpx.Client,
    path: str,
    headers: dict[str, str],
    position: int,
    **params: str,
) -> httpx.Response:
    """GET ``path`` with ``params`` once the read model reached ``position``
    (a 503 while it is behind is retried, as a client reading its own writes
    would)."""
    deadline = time.monotonic() + WAIT_SECONDS
    query = {**params, "min_position": str(position)}
    while True:
        r = http.get(path, params=query, headers=headers)
        if r.status_code != 503 or time.monotonic() > deadline:
            return r
        time.sleep(float(r.headers.get("retry-after", "1")))


def test_bad_requests_are_refused_with_a_stable_code_and_write_nothing(
    http, pipeline, scene
):
    other = build_scene(pipeline, "other")
    head = pipeline.event_store.head()
    refusals = [
        (
            ask(http, scene, scene.running, template_id=str(uuid.uuid4())),
            404,
            "not-found",
        ),
        (
            ask(http, scene, scene.running, template_id=str(scene.retired_template)),
            409,
            "document.template_retired",
        ),
        (
            ask(
                http, scene, scene.running, template_id=str(scene.certificate_template)
            ),
            409,
            "document.template_wrong_kind",
        ),
        (ask(http, scene, scene.running, format="odt"), 422, "validation-error"),
        (ask(http, scene, scene.running, kind="certificate"), 422, "validation-error"),
        (ask(http, scene, scene.running, template_version=3), 422, "validation-error"),
        (ask(http, scene, other.running), 404, "not-found"),
        (ask(http, scene, uuid.uuid4()), 404, "not-found"),
    ]
    for r, status, code in refusals:
        assert (r.status_code, r.headers["content-type"]) == (status, PROBLEM), r.text
        assert r.json()["code"] == code, r.text
    fields = [r.json()["errors"][0]["field"] for r, s, _ in refusals if s == 422]
    assert fields == ["format", "kind", "template_version"]
    auditor = as_user(scene.tenant, "auditor", actor="arun")  # not the lead
    body = {"kind": "audit_report", "template_id": str(scene.report_template)}
    r = http.post(
        f"/audits/{scene.running}/documents",
        json={**body, "format": "pdf"},
        headers=auditor,
    )
    assert r.status_code == 403, r.text
    assert pipeline.event_store.head() == head


def test_a_report_is_pending_then_ready_and_downloads_with_its_name(
    http, pipeline, scene
):
    asked = ask(http, scene, scene.running, format="docx", template_version=1)
    assert asked.status_code == 202, asked.text
    document_id = asked.json()["id"]
    assert asked.headers["location"] == f"/documents/{document_id}"
    path = f"/documents/{document_id}"
    pending = read(http, path, scene.manager(), asked.json()["position"])
    assert pending.status_code == 200, pending.text
    assert pending.headers["etag"] == '"1"'
    body = pending.json()
    assert (body["status"], body["kind"], body["format"]) == (
        "pending",
        "audit_report",
        "docx",
    )
    assert (body["template_id"], body["template_version"]) == (
        str(scene.report_template),
        1,
    )
    assert (body["audit_id"], body["draft"]) == (str(scene.running), True)
    early = http.get(f"{path}/content", headers=scene.manager())
    assert early.status_code == 409
    assert early.json()["code"] == "document.not_ready"

    docx = b"PK\x03\x04" + b"docx bytes " * 300
    name = "ISO-9001-stage-2-Łódź-Valves-2026-12-04.docx"
    stored = pipeline.files.put(io.BytesIO(docx), 10_000_000)
    position = pipeline.services.documents.record_rendered(
        system(scene),
        RecordRendered(UUID(document_id), stored.sha256, stored.size, None, name),
    ).position
    ready = read(http, path, scene.manager(), position).json()
    assert (ready["status"], ready["sha256"], ready["size"]) == (
        "ready",
        stored.sha256,
        len(docx),
    )
    assert (ready["media_type"], ready["file_name"]) == (DOCX, name)
    assert ready["page_count"] is None
    assert ready["rendered_at"] is not None
    content = http.get(f"{path}/content", headers=scene.manager())
    assert content.status_code == 200
    assert content.content == docx
    assert content.headers["content-type"] == DOCX
    assert content.headers["etag"] == f'"{stored.sha256}"'
    disposition = content.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="ISO-9001-stage-2-_odz-')
    assert f"filename*=UTF-8''{quote(name)}" in disposition


def test_the_list_filters_by_audit_kind_and_status(http, pipeline, scene):
    first = ask(http, scene, scene.decided)
    second = ask(http, scene, scene.decided)
    position = render(pipeline, scene, first.json()["id"])
    listed = read(
        http,
        "/documents",
        scene.manager(),
        max(position, second.json()["position"]),
        audit_id=str(scene.decided),
        kind="audit_report",
    )
    items = listed.json()["items"]
    assert [i["id"] for i in items] == [second.json()["id"], first.json()["id"]]
    assert {i["draft"] for i in items} == {False}
    ready = http.get(
        "/documents",
        params={"audit_id": str(scene.decided), "status": "ready"},
        headers=scene.manager(),
    )
    assert [i["id"] for i in ready.json()["items"]] == [first.json()["id"]]
    bad = http.get("/documents", params={"status": "done"}, headers=scene.manager())
    assert bad.status_code == 400


def certificate_of(http: httpx.Client, scene: Scene) -> dict[str, Any]:
    issued = http.post(
        "/certificates",
        json={
            "audit_id": str(scene.decided),
            "site_scopes": [{"site_id": str(scene.site), "scope": "Valves"}],
            "effective_date": utc_today().isoformat(),
            "expiry_date": (utc_today() + timedelta(days=365)).isoformat(),
        },
        headers=as_user(scene.tenant, "decision_maker", actor="dora"),
    )
    assert issued.status_code == 201, issued.text
    return dict(issued.json())


def test_a_client_sees_certificate_documents_and_reports_once_the_audit_closed(
    http, pipeline
):
    scene = build_scene(pipeline, "client")
    admin = as_user(scene.tenant, "tenant_admin", actor="ada")
    chosen = http.post(
        "/tenant/settings/certificate-template",
        json={"template_id": str(scene.certificate_template)},
        headers=admin,
    )
    assert chosen.status_code == 200, chosen.text
    settings = http.get("/tenant/settings", headers=admin).json()
    assert settings["certificate_template_id"] == str(scene.certificate_template)
    report_kind = http.post(
        "/tenant/settings/certificate-template",
        json={"template_id": str(scene.report_template)},
        headers=admin,
    )
    assert report_kind.status_code == 409
    assert report_kind.json()["code"] == "document.template_wrong_kind"
    issued = certificate_of(http, scene)
    none_yet = read(
        http,
        f"/certificates/{issued['id']}/document",
        scene.manager(),
        issued["position"],
    )
    assert none_yet.status_code == 404
    requested = pipeline.services.documents.request_certificate_document(
        system(scene), RequestCertificateDocument(UUID(issued["id"]), 1)
    )
    position = render(pipeline, scene, str(requested.id))
    report = ask(http, scene, scene.decided)
    report_id = report.json()["id"]
    position = max(position, render(pipeline, scene, report_id))

    client = scene.client()
    newest = read(http, f"/certificates/{issued['id']}/document", client, position)
    assert newest.status_code == 200, newest.text
    assert newest.json()["id"] == str(requested.id)
    assert newest.json()["certificate_version"] == 1
    listed = read(http, "/documents", client, position).json()["items"]
    assert [i["id"] for i in listed] == [str(requested.id)]
    assert read(http, f"/documents/{report_id}", client, position).status_code == 404
    hidden = http.get(f"/documents/{report_id}/content", headers=client)
    assert hidden.status_code == 404

    closed = http.post(f"/audits/{scene.decided}/close", headers=scene.manager())
    assert closed.status_code == 200, closed.text
    seen = read(http, f"/documents/{report_id}", client, closed.json()["position"])
    assert seen.status_code == 200, seen.text
    content = http.get(f"/documents/{report_id}/content", headers=client)
    assert content.content == PDF
    listed = http.get("/documents", headers=client).json()["items"]
    assert {i["id"] for i in listed} == {str(requested.id), report_id}

    elsewhere = scene.client(uuid.uuid4())
    other_tenant = as_user(f"{scene.tenant}-x", "tenant_admin")
    for outsider in (elsewhere, other_tenant):
        for path in (
            f"/documents/{report_id}",
            f"/documents/{report_id}/content",
            f"/certificates/{issued['id']}/document",
        ):
            r = http.get(path, headers=outsider)
            assert (r.status_code, r.headers["content-type"]) == (404, PROBLEM), path
        assert http.get("/documents", headers=outsider).json()["items"] == []
