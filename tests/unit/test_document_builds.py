"""Documents built from the in-memory event store at the versions their
requests recorded: what they show, that later changes do not reach them,
and which failures are lasting."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from commands.documents import DocumentService, RecordRendered
from domain.document import Document
from domain.document_template import DocumentLayout, DocumentTemplate
from infra.document_builds import DocumentBuilder, DocumentBuildError, verification_url
from infra.document_builds.certificate_views import certificate_view
from infra.document_builds.report_views import report_view
from infra.document_builds.sources import (
    load_certificate_sources,
    load_report_sources,
)
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.files import LocalFileStore
from tests.document_scene import CITIES, LEAD_NAME, DocumentScene, new_tenant

BASE = "https://verify.example.test/"


@pytest.fixture
def store():
    return LibraryEventStore(in_memory_env())


@pytest.fixture
def files(tmp_path):
    return LocalFileStore(tmp_path / "media")


@pytest.fixture
def service(store, files):
    return DocumentService(store, files)


@pytest.fixture
def scene(store):
    scene = DocumentScene(new_tenant())
    scene.record(store)
    return scene


@pytest.fixture
def builder(store):
    return DocumentBuilder(store, BASE)


def document(store, document_id) -> Document:
    found = store.load(Document, document_id)
    assert found is not None
    return found


def test_a_report_shows_the_audit_as_its_recorded_version_left_it(
    store, service, scene
):
    requested = document(store, scene.request_report(service).id)
    view = report_view(load_report_sources(store, requested))
    assert view.tenant_name == "Nordic Certification AB"
    assert (view.audit_id, view.audit_version) == (scene.audit.id, scene.audit.version)
    assert view.as_of == scene.audit.modified_on.date()
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
    store, service, scene, builder
):
    requested = document(store, scene.request_report(service).id)
    before = builder.build(requested)
    scene.organization.rename(scene.meta, "Renamed Valves")
    scene.audit.raise_finding(
        scene.meta, "8", "observation", "Something new", "Seen", date(2026, 12, 1)
    )
    scene.report_template.revise(scene.meta, "Report v2", "Other", ("summary",), "Sig")
    store.append(scene.organization, scene.audit, scene.report_template)
    again = builder.build(document(store, requested.id))
    assert again.rendered.sha256 == before.rendered.sha256
    newer = document(store, scene.request_report(service).id)
    assert builder.build(newer).rendered.sha256 != before.rendered.sha256


def test_a_decided_audit_gives_a_final_report_with_the_decision(
    store, service, scene, builder
):
    scene.decide(store)
    requested = document(store, scene.request_report(service, "docx").id)
    view = report_view(load_report_sources(store, requested))
    assert view.draft is False
    assert view.decision is not None
    assert (view.decision.outcome, view.decision.decided_by) == ("grant", "dmitri")
    built = builder.build(requested)
    assert built.rendered.page_count is None
    assert built.file_name == "ISO-9001-stage-2-Nordic-Valves-Łódź-" + (
        f"{view.as_of.isoformat()}.docx"
    )


def test_a_certificate_shows_its_sites_and_encodes_its_verification_url(
    store, service, scene, builder
):
    scene.decide(store)
    certificate = scene.issue(store)
    requested = document(store, scene.request_certificate(service, certificate).id)
    view = certificate_view(load_certificate_sources(store, requested), BASE)
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
    store, service, scene, builder
):
    requested = document(store, scene.request_report(service).id)
    # The request names a template id that now holds a certificate layout
    # (as if the events were edited): the build refuses to guess.
    requested.template_id = scene.certificate_template.id
    with pytest.raises(DocumentBuildError) as refused:
        builder.build(requested)
    assert refused.value.code == "document.template_wrong_kind"


def test_a_source_missing_at_its_recorded_version_is_a_lasting_failure(
    store, service, scene, builder
):
    requested = document(store, scene.request_report(service).id)
    requested.organization_version += 5
    with pytest.raises(DocumentBuildError) as refused:
        builder.build(requested)
    assert refused.value.code == "document.source_missing"
    assert str(scene.organization.id) in refused.value.detail


def test_a_source_of_another_tenant_is_missing(store, service, scene, builder):
    theirs = DocumentScene(new_tenant("other"))
    theirs.record(store)
    requested = document(store, scene.request_report(service).id)
    requested.audit_id = theirs.audit.id
    requested.audit_version = theirs.audit.version
    with pytest.raises(DocumentBuildError) as refused:
        builder.build(requested)
    assert refused.value.code == "document.source_missing"


class EditedTemplates:
    """The event store, with one template's layouts replaced as stored data
    could hold them (the domain refuses to record such a layout)."""

    def __init__(self, store, template: DocumentTemplate) -> None:
        self._store = store
        self._template = template

    def load(self, kind, aggregate_id):
        if aggregate_id == self._template.id:
            return self._template
        return self._store.load(kind, aggregate_id)

    def load_at(self, kind, aggregate_id, version):
        return self._store.load_at(kind, aggregate_id, version)


def test_a_layout_with_a_section_the_renderer_has_no_data_for_is_unrenderable(
    store, service, scene
):
    requested = document(store, scene.request_report(service).id)
    template = store.load(DocumentTemplate, scene.report_template.id)
    template.layouts = [
        DocumentLayout(1, "Report", "ACME", ("summary", "validity"), "Sig")
    ]
    builder = DocumentBuilder(EditedTemplates(store, template), BASE)
    with pytest.raises(DocumentBuildError) as refused:
        builder.build(requested)
    assert refused.value.code == "document.unrenderable"
    assert "validity" in refused.value.detail


def test_verify_tells_the_issued_file_from_a_changed_copy(
    store, service, files, scene, builder
):
    requested = document(store, scene.request_report(service).id)
    content = builder.build(requested).rendered.content
    stored = files.put(io.BytesIO(content), 10**8)
    service.record_rendered(
        scene.system(),
        RecordRendered(requested.id, stored.sha256, stored.size, 1, "report.pdf"),
    )
    issued = document(store, requested.id)
    verdict = builder.verify(issued, io.BytesIO(content))
    assert (verdict.issued, verdict.reproduced) == (True, True)
    changed = content.replace(b"/Producer", b"/Pro-ducer", 1)
    verdict = builder.verify(issued, io.BytesIO(changed))
    assert (verdict.issued, verdict.reproduced) == (False, True)
    assert verdict.file_sha256 != verdict.recorded_sha256


def test_verify_of_a_pending_document_matches_nothing(store, service, scene, builder):
    requested = document(store, scene.request_report(service).id)
    built = builder.build(requested)
    verdict = builder.verify(requested, io.BytesIO(built.rendered.content))
    assert verdict.recorded_sha256 is None
    assert (verdict.issued, verdict.reproduced) == (False, False)
    assert verdict.rendered_sha256 == built.rendered.sha256


def test_a_site_removed_before_the_request_prints_as_removed(store, service, scene):
    scene.organization.remove_site(scene.meta, scene.sites[1])
    store.append(scene.organization)
    requested = document(store, scene.request_report(service).id)
    view = report_view(load_report_sources(store, requested))
    assert [s.name for s in view.sites] == [
        f"Plant {CITIES[0]}",
        f"Removed site {scene.sites[1]}",
        *(f"Plant {c}" for c in CITIES[2:]),
    ]
    assert view.sites[1].country == "PL"
