"""Documents end to end: asked for over HTTP on a real server, rendered by
the document processor from Kafka, downloaded and read back with other
software (pypdf, poppler, zbar, python-docx), then checked as copies.

The server's public base URL is its own address, so the URL a certificate's
QR code encodes can be called like a phone would. Records are made with the
domain's own commands (as the other e2e tests do); documents are asked for,
waited on, downloaded and verified over HTTP, as a client would.
"""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from docx import Document as DocxDocument
from pypdf import PdfReader

from domain.audit import Audit
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from read_api.app import create_app
from tests.command_line import assurehub
from tests.document_scene import CITIES, LEAD_NAME, DocumentScene, new_tenant
from tests.e2e.conftest import as_user, free_port, processing, serve
from tests.unit.test_document_rendering import pdftotext_pages, tool, zbar

WAIT_SECONDS = 90
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Flow:
    http: httpx.Client
    container: Container
    base_url: str
    settings: Settings


@pytest.fixture(scope="module")
def flow(document_jobs, migrated: Settings) -> Iterator[Flow]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings.model_validate(
        {**migrated.model_dump(), "public_base_url": url}
    )
    container = bootstrap(settings)
    try:
        with (
            serve(create_app(container), port),
            httpx.Client(base_url=url, timeout=60) as http,
            processing(container),
        ):
            yield Flow(http, container, url, settings)
    finally:
        container.close()


@pytest.fixture(scope="module")
def scene(flow: Flow) -> DocumentScene:
    scene = DocumentScene(new_tenant("flow"))
    scene.record(flow.container.event_store)
    return scene


def manager(scene: DocumentScene) -> dict[str, str]:
    return as_user(scene.tenant, "programme_manager", actor="mia")


def ask(flow: Flow, scene: DocumentScene, fmt: str) -> dict[str, Any]:
    r = flow.http.post(
        f"/audits/{scene.audit.id}/documents",
        json={
            "kind": "audit_report",
            "template_id": str(scene.report_template.id),
            "format": fmt,
        },
        headers=manager(scene),
    )
    assert r.status_code == 202, r.text
    return r.json()


def ready(flow: Flow, path: str, headers: dict[str, str], position: int) -> dict:
    """GET ``path`` until the document it answers is no longer pending."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        r = flow.http.get(path, params={"min_position": position}, headers=headers)
        if r.status_code == 200 and r.json()["status"] != "pending":
            return r.json()
        assert r.status_code in (200, 404, 503), r.text
        assert time.monotonic() < deadline, f"{path} not rendered: {r.text}"
        time.sleep(0.2)


def download(flow: Flow, document: dict, headers: dict[str, str]) -> bytes:
    r = flow.http.get(f"/documents/{document['id']}/content", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(document["media_type"])
    assert r.headers["etag"] == f'"{document["sha256"]}"'
    assert len(r.content) == document["size"]
    return r.content


def report(flow: Flow, scene: DocumentScene, fmt: str) -> tuple[dict, bytes]:
    asked = ask(flow, scene, fmt)
    document = ready(
        flow, f"/documents/{asked['id']}", manager(scene), asked["position"]
    )
    assert document["status"] == "ready", document
    return document, download(flow, document, manager(scene))


@pytest.fixture(scope="module")
def draft_pdf(flow: Flow, scene: DocumentScene) -> tuple[dict, bytes]:
    return report(flow, scene, "pdf")


def test_a_draft_report_pdf_reads_back_with_its_text_pages_and_draft_marks(
    draft_pdf, tmp_path
):
    document, content = draft_pdf
    assert document["file_name"].startswith("ISO-9001-stage-2-Nordic-Valves-Łódź-")
    pages = len(PdfReader(io.BytesIO(content)).pages)
    assert pages == document["page_count"] >= 2
    texts = pdftotext_pages(content, tmp_path, pages)
    assert all("DRAFT" in text for text in texts)
    assert all(f"Page {n} of {pages}" in t for n, t in enumerate(texts, start=1))
    text = "\n".join(texts)
    for heading in ("Clause-by-clause assessment", "Findings", "Audit team"):
        assert heading in text
    for city in CITIES:
        assert f"Plant {city}" in text
    assert LEAD_NAME in text
    assert "Interested parties in İstanbul were not listed" in text


def test_a_draft_report_docx_opens_with_headings_tables_and_properties(flow, scene):
    _, content = report(flow, scene, "docx")
    docx = DocxDocument(io.BytesIO(content))
    headings = [
        p.text
        for p in docx.paragraphs
        if p.style is not None and p.style.name == "Heading 1"
    ]
    assert "Clause-by-clause assessment" in headings
    assert "Findings" in headings
    clauses = next(t for t in docx.tables if t.rows[0].cells[0].text == "Clause")
    assert [r.cells[0].text for r in clauses.rows[1:]] == ["4", "8"]
    cells = "\n".join(c.text for t in docx.tables for r in t.rows for c in r.cells)
    for city in CITIES:
        assert city in cells
    assert docx.core_properties.author == "Nordic Certification AB"


def test_the_issued_file_verifies_and_a_changed_copy_does_not(flow, scene, draft_pdf):
    document, content = draft_pdf
    path = f"/documents/{document['id']}/verify"

    def verify(data: bytes, headers: dict[str, str]) -> httpx.Response:
        files = {"file": ("copy.pdf", data, "application/pdf")}
        return flow.http.post(path, files=files, headers=headers)

    same = verify(content, manager(scene))
    assert same.status_code == 200, same.text
    assert same.json() | {"document_id": None} == {
        "document_id": None,
        "issued": True,
        "reproduced": True,
        "file_sha256": document["sha256"],
        "recorded_sha256": document["sha256"],
        "rendered_sha256": document["sha256"],
        "detail": None,
    }
    middle = len(content) // 2
    flipped = content[:middle] + bytes([content[middle] ^ 1]) + content[middle + 1 :]
    changed = verify(flipped, manager(scene))
    assert (changed.json()["issued"], changed.json()["reproduced"]) == (False, False)
    assert changed.json()["rendered_sha256"] is None
    # A copy over the JSON body limit is an upload like evidence, not a 413.
    padded = content + b"\0" * (flow.settings.max_body_bytes + 1)
    large = verify(padded, manager(scene))
    assert large.status_code == 200, large.text
    assert large.json()["issued"] is False
    stranger = as_user(new_tenant("stranger"), "programme_manager")
    assert verify(content, stranger).status_code == 404


def projected(container: Container, position: int) -> None:
    """Wait until public verification can answer for ``position``."""
    deadline = time.monotonic() + WAIT_SECONDS
    for projection in ("certificates", "organizations"):
        while not container.progress.has_reached(projection, position):
            assert time.monotonic() < deadline, f"{projection} behind {position}"
            time.sleep(0.1)


def run_cli(flow: Flow, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    settings = flow.settings
    return assurehub(
        "documents",
        "verify",
        *args,
        env={
            "ASSUREHUB_ENV": "development",
            "ASSUREHUB_DATABASE_URL": str(settings.database_url),
            "ASSUREHUB_PUBLIC_BASE_URL": settings.public_base_url,
            # the names in a report are sealed: opening them needs the key
            "ASSUREHUB_PERSON_KEY_WRAPPING_KEYS": os.environ.get(
                "ASSUREHUB_PERSON_KEY_WRAPPING_KEYS", ""
            ),
            **env,
        },
    )


def test_the_command_line_verifies_a_copy_in_processes_of_other_zones(
    flow, draft_pdf, tmp_path
):
    document, content = draft_pdf
    copy = tmp_path / document["file_name"]
    copy.write_bytes(content)
    zones = (
        {"TZ": "Pacific/Kiritimati", "LC_ALL": "tr_TR.UTF-8", "PYTHONHASHSEED": "1"},
        {"TZ": "America/Adak", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "2"},
    )
    for env in zones:
        checked = run_cli(flow, str(copy), **env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert f"issued as {document['sha256']}" in checked.stdout
        assert f"again from the recorded versions: {document['sha256']}" in (
            checked.stdout
        )
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(content + b"\n")
    refused = run_cli(flow, str(altered))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "no document was issued as this file" in refused.stdout
    named = run_cli(flow, str(altered), "--document", document["id"])
    assert named.returncode == 1
    assert "NOT the file issued" in named.stdout
    # without the key that seals the report's names: one line naming it
    keyless = run_cli(flow, str(copy), ASSUREHUB_PERSON_KEY_WRAPPING_KEYS="")
    assert keyless.returncode == 2, keyless.stdout + keyless.stderr
    assert "Traceback" not in keyless.stderr
    [line] = [
        text
        for text in keyless.stderr.splitlines()
        if text.startswith("assurehub documents:")
    ]
    assert "ASSUREHUB_PERSON_KEY_WRAPPING_KEYS" in line


def test_changing_one_finding_changes_the_next_reports_sha256(flow, scene, draft_pdf):
    before, _ = draft_pdf
    finding = scene.finding
    r = flow.http.post(
        f"/audits/{scene.audit.id}/findings/{finding}/implement",
        headers=manager(scene),
    )
    assert r.status_code == 200, r.text
    after, _ = report(flow, scene, "pdf")
    assert after["audit_version"] == before["audit_version"] + 1
    assert after["sha256"] != before["sha256"]


def test_a_decided_audits_report_and_its_certificate_qr_answer_verification(
    flow, scene, tmp_path
):
    store = flow.container.event_store
    scene.audit = store.load(Audit, scene.audit.id)  # changed over HTTP since
    scene.decide(store)
    final, content = report(flow, scene, "pdf")
    pages = pdftotext_pages(content, tmp_path, final["page_count"])
    assert not any("DRAFT" in page for page in pages)

    issued = flow.http.post(
        "/certificates",
        json={
            "audit_id": str(scene.audit.id),
            "site_scopes": [
                {"site_id": str(site), "scope": f"Valves made in {city}"}
                for site, city in zip(scene.sites, CITIES, strict=True)
            ],
            "effective_date": date(2026, 12, 5).isoformat(),
            "expiry_date": date(2029, 12, 4).isoformat(),
        },
        headers=as_user(scene.tenant, "decision_maker", actor="dora"),
    )
    assert issued.status_code == 201, issued.text
    certificate = issued.json()
    projected(flow.container, certificate["position"])
    path = f"/certificates/{certificate['id']}/document"
    document = ready(flow, path, manager(scene), certificate["position"])
    pdf = download(flow, document, manager(scene))
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    subprocess.run(
        [tool("pdftoppm"), "-r", "150", "-png", "-singlefile", "certificate.pdf", "c"],
        check=True,
        cwd=tmp_path,
    )
    url = zbar(tmp_path / "c.png")
    assert url.startswith(f"{flow.base_url}/public/certificate-verifications?")
    answer = httpx.get(url, headers={"X-Forwarded-For": "198.18.7.7"}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["number"], answer.json()["status"]) == (
        certificate["number"],
        "active",
    )
    assert [s["site"] for s in answer.json()["scopes"]] == [
        f"Plant {c}" for c in CITIES
    ]
