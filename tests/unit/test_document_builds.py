"""Documents built from the in-memory event store at the versions their
requests recorded: what they show, that later changes do not reach them,
and which failures are lasting."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from commands.documents import RecordRendered
from domain.document import Document
from domain.document_template import DocumentLayout, DocumentTemplate
from infra.document_builds import DocumentBuilder, DocumentBuildError, verification_url
from infra.document_builds.certificate_views import certificate_view
from infra.document_builds.report_views import report_view
from infra.document_builds.sources import (
    load_certificate_sources,
    load_report_sources,
)
from tests.document_scene import CITIES, LEAD_NAME, DocumentScene, new_tenant

BASE = "https://verify.example.test/"


@pytest.fixture
def builder(memory_store):
    return DocumentBuilder(memory_store, BASE)


def document(memory_store, document_id) -> Document:
    found = memory_store.load(Document, document_id)
    assert found is not None
    return found


def test_a_report_shows_the_audit_as_its_recorded_version_left_it(
    memory_store, document_service, document_scene
):
    requested = document(
        memory_store, document_scene.request_report(document_service).id
    )
    view = report_view(load_report_sources(memory_store, requested))
    assert view.tenant_name == "Nordic Certification AB"
    assert (view.audit_id, view.audit_version) == (
        document_scene.audit.id,
        document_scene.audit.version,
    )
    assert view.as_of == document_scene.audit.modified_on.date()
    assert view.draft is True
    assert view.decision is None
    assert view.organization_name == "Nordic Valves Łódź"
    assert [s.name for s in view.sites] == [f"Plant {c}" for c in CITIES]
    # The lead is named by their account; "søren" has none and prints as is.
    assert [(m.name, m.role) for m in view.team] == [
        (LEAD_NAME, "lead_auditor"),
        ("søren", "auditor"),
    ]
    # In the standard's clause order, with the published clause titles.
    assert [(a.clause_id, a.title, a.result) for a in view.assessments] == [
        ("4", "Context of the organization", "nonconforming"),
        ("8", "Operation", "conforming"),
    ]
    [finding] = view.findings
    assert (finding.grade, finding.status) == (
        "minor_nonconformity",
        "response_accepted",
    )
    assert finding.corrective_action == "Quarterly review"
    assert view.layout.number == 1


def test_later_changes_to_the_sources_do_not_reach_a_requested_document(
    memory_store, document_service, document_scene, builder
):
    requested = document(
        memory_store, document_scene.request_report(document_service).id
    )
    before = builder.build(requested)
    document_scene.organization.rename(document_scene.meta, "Renamed Valves")
    document_scene.audit.raise_finding(
        document_scene.meta,
        "8",
        "observation",
        "Something new",
        "Seen",
        date(2026, 12, 1),
    )
    document_scene.report_template.revise(
        document_scene.meta, "Report v2", "Other", ("summary",), "Sig"
    )
    memory_store.append(
        document_scene.organization,
        document_scene.audit,
        document_scene.report_template,
    )
    again = builder.build(document(memory_store, requested.id))
    assert again.rendered.sha256 == before.rendered.sha256
    newer = document(memory_store, document_scene.request_report(document_service).id)
    assert builder.build(newer).rendered.sha256 != before.rendered.sha256


def test_a_decided_audit_gives_a_final_report_with_the_decision(
    memory_store, document_service, document_scene, builder
):
    document_scene.decide(memory_store)
    requested = document(
        memory_store, document_scene.request_report(document_service, "docx").id
    )
    view = report_view(load_report_sources(memory_store, requested))
    assert view.draft is False
    assert view.decision is not None
    assert (view.decision.outcome, view.decision.decided_by) == ("grant", "dmitri")
    built = builder.build(requested)
    assert built.rendered.page_count is None
    assert built.file_name == "ISO-9001-stage-2-Nordic-Valves-Łódź-" + (
        f"{view.as_of.isoformat()}.docx"
    )


def test_a_certificate_shows_its_sites_and_encodes_its_verification_url(
    memory_store, document_service, document_scene, builder
):
    document_scene.decide(memory_store)
    certificate = document_scene.issue(memory_store)
    requested = document(
        memory_store,
        document_scene.request_certificate(document_service, certificate).id,
    )
    view = certificate_view(load_certificate_sources(memory_store, requested), BASE)
    assert view.verification_url == (
        "https://verify.example.test/public/certificate-verifications"
        f"?number={certificate.number}&code={certificate.verification_code}"
    )
    assert [(s.name, s.scope) for s in view.sites] == [
        (f"Plant {c}", f"Valves made in {c}") for c in CITIES
    ]
    assert view.holder_address == f"Main street 1, {CITIES[0]}, PL"
    built = builder.build(requested)
    assert built.file_name == f"{certificate.number}-rev-1-Nordic-Valves-Łódź.pdf"
    assert len(PdfReader(io.BytesIO(built.rendered.content)).pages) == 1


def test_the_verification_url_does_not_depend_on_a_trailing_slash():
    assert verification_url("http://h:1", "A-2026-0001", "C") == verification_url(
        "http://h:1/", "A-2026-0001", "C"
    )


def test_a_template_that_turned_out_of_the_wrong_kind_is_a_lasting_failure(
    memory_store, document_service, document_scene, builder
):
    requested = document(
        memory_store, document_scene.request_report(document_service).id
    )
    # The request names a template id that now holds a certificate layout
    # (as if the events were edited): the build refuses to guess.
    requested.template_id = document_scene.certificate_template.id
    with pytest.raises(DocumentBuildError) as refused:
        builder.build(requested)
    assert refused.value.code == "document.template_wrong_kind"


def test_a_source_missing_at_its_recorded_version_is_a_lasting_failure(
    memory_store, document_service, document_scene, builder
):
    requested = document(
        memory_store, document_scene.request_report(document_service).id
    )
    requested.organization_version += 5
    with pytest.raises(DocumentBuildError) as refused:
        builder.build(requested)
    assert refused.value.code == "document.source_missing"
    assert str(document_scene.organization.id) in refused.value.detail


def test_a_source_of_another_tenant_is_missing(
    memory_store, document_service, document_scene, builder
):
    theirs = DocumentScene(new_tenant("other"))
    theirs.record(memory_store)
    requested = document(
        memory_store, document_scene.request_report(document_service).id
    )
    requested.audit_id = theirs.audit.id
    requested.audit_version = theirs.audit.version
    with pytest.raises(DocumentBuildError) as refused:
        builder.build(requested)
    assert refused.value.code == "document.source_missing"


class EditedTemplates:
    """The event store, with one template's layouts replaced as stored data
    could hold them (the domain refuses to record such a layout)."""

    def __init__(self, memory_store, template: DocumentTemplate) -> None:
        self._store = memory_store
        self._template = template

    def load(self, kind, aggregate_id):
        if aggregate_id == self._template.id:
            return self._template
        return self._store.load(kind, aggregate_id)

    def load_at(self, kind, aggregate_id, version):
        return self._store.load_at(kind, aggregate_id, version)


def test_a_layout_with_a_section_the_renderer_has_no_data_for_is_unrenderable(
    memory_store, document_service, document_scene
):
    requested = document(
        memory_store, document_scene.request_report(document_service).id
    )
    template = memory_store.load(DocumentTemplate, document_scene.report_template.id)
    template.layouts = [
        DocumentLayout(1, "Report", "ACME", ("summary", "validity"), "Sig")
    ]
    builder = DocumentBuilder(EditedTemplates(memory_store, template), BASE)
    with pytest.raises(DocumentBuildError) as refused:
        builder.build(requested)
    assert refused.value.code == "document.unrenderable"
    assert "validity" in refused.value.detail


def test_verify_tells_the_issued_file_from_a_changed_copy(
    memory_store, document_service, media, document_scene, builder
):
    requested = document(
        memory_store, document_scene.request_report(document_service).id
    )
    content = builder.build(requested).rendered.content
    stored = media.put(io.BytesIO(content), 10**8)
    document_service.record_rendered(
        document_scene.system(),
        RecordRendered(requested.id, stored.sha256, stored.size, 1, "report.pdf"),
    )
    issued = document(memory_store, requested.id)
    verdict = builder.verify(issued, io.BytesIO(content))
    assert (verdict.issued, verdict.reproduced) == (True, True)
    changed = content.replace(b"/Producer", b"/Pro-ducer", 1)
    verdict = builder.verify(issued, io.BytesIO(changed))
    assert (verdict.issued, verdict.reproduced) == (False, False)
    assert verdict.file_sha256 != verdict.recorded_sha256
    assert verdict.rendered_sha256 is None  # no render spent on another file


def test_verify_of_a_pending_document_matches_nothing(
    memory_store, document_service, document_scene, builder
):
    requested = document(
        memory_store, document_scene.request_report(document_service).id
    )
    built = builder.build(requested)
    verdict = builder.verify(requested, io.BytesIO(built.rendered.content))
    assert verdict.recorded_sha256 is None
    assert (verdict.issued, verdict.reproduced) == (False, False)
    assert verdict.rendered_sha256 is None


def test_a_site_removed_before_the_request_prints_as_removed(
    memory_store, document_service, document_scene
):
    document_scene.organization.remove_site(
        document_scene.meta, document_scene.sites[1]
    )
    memory_store.append(document_scene.organization)
    requested = document(
        memory_store, document_scene.request_report(document_service).id
    )
    view = report_view(load_report_sources(memory_store, requested))
    assert [s.name for s in view.sites] == [
        f"Plant {CITIES[0]}",
        f"Removed site {document_scene.sites[1]}",
        *(f"Plant {c}" for c in CITIES[2:]),
    ]
    assert view.sites[1].country == "PL"
