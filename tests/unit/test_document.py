"""Document aggregate: given a request, when the processor records an
outcome, then events or an error; and the values a request is checked with."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.certificate import Certificate
from domain.document import Document, people_named
from domain.document_template import DocumentTemplate
from domain.document_values import (
    DocumentFormat,
    DocumentStatus,
    SourceVersions,
    certificate_document_id,
    certificate_file_name,
    file_name_of,
    report_file_name,
)
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta
from tests.unit.test_certification import (
    DECIDED,
    DECIDER,
    LEAD,
    ORG,
    REVIEWER,
    SITE_A,
    TEMPLATE,
    granted_audit,
    started_audit,
)

META = EventMeta("tenant-a", "mia", "req-1", "req-1")
PROCESSOR = EventMeta("tenant-a", "system:documents", "req-2", "req-2")
SOURCES = SourceVersions(
    organization=4, tenant=1, standard_template=3, people=(("lena", 2),)
)
SHA = "a" * 64
OTHER_SHA = "b" * 64
PDF_NAME = "ISO-9001-stage-2-Nordic-Valves-2026-12-04.pdf"


def template(kind: str = "audit_report", *, revisions: int = 0) -> DocumentTemplate:
    sections = ("summary",) if kind == "audit_report" else ("holder",)
    layout = DocumentTemplate.create(META, kind, "Report", "ACME", sections, "Sig")
    for n in range(revisions):
        layout.revise(META, f"Report v{n + 2}", "ACME", sections, "Sig")
    return layout


def report(fmt: str = "pdf", audit=None, **request) -> Document:
    """A report requested of an audit under way (collected: no pending events)."""
    document = Document.request_audit_report(
        META,
        audit or started_audit(),
        request.pop("layout", None) or template(),
        request.pop("version", None),
        fmt,
        SOURCES,
    )
    document.collect_events()
    return document


def refused(rule: str, command, document: Document | None = None) -> None:
    version = document.version if document else None
    with pytest.raises(RuleViolationError) as raised:
        command()
    assert raised.value.rule == rule
    if document is not None:
        assert document.collect_events() == []
        assert document.version == version


def issued_certificate() -> Certificate:
    certificate = Certificate.issue(
        META,
        number="ACME-2026-000001",
        organization_id=ORG,
        site_ids=(SITE_A,),
        site_scopes=("Pumps",),
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_id=uuid4(),
        decision_date=DECIDED,
        issue_date=DECIDED,
        effective_date=DECIDED,
        expiry_date=DECIDED + timedelta(days=365),
    )
    certificate.suspend(META, "Missed surveillance", DECIDED)
    return certificate


# Requesting a report


def test_a_report_request_records_every_version_it_is_built_from():
    audit = started_audit()
    layout = template(revisions=2)
    document = Document.request_audit_report(META, audit, layout, None, "docx", SOURCES)
    [requested] = document.collect_events()
    assert isinstance(requested, Document.Requested)
    assert (requested.kind, requested.format) == ("audit_report", "docx")
    assert (requested.template_id, requested.template_version) == (layout.id, 3)
    assert (requested.audit_id, requested.audit_version) == (audit.id, audit.version)
    assert (requested.organization_id, requested.organization_version) == (ORG, 4)
    assert requested.standard_template_id == TEMPLATE
    assert requested.standard_template_version == 3
    assert requested.tenant_version == 1
    assert (requested.person_ids, requested.person_versions) == (("lena",), (2,))
    assert (requested.certificate_id, requested.certificate_version) == (None, None)
    assert document.status is DocumentStatus.PENDING
    assert document.format is DocumentFormat.DOCX


def test_a_report_keeps_the_template_version_asked_for():
    document = report(layout=template(revisions=2), version=2)
    assert document.template_version == 2


def test_a_report_of_an_undecided_audit_is_a_draft_and_of_a_decided_one_is_not():
    assert report(audit=started_audit()).draft is True
    assert report(audit=granted_audit()).draft is False


def test_a_reopened_audit_s_report_is_a_draft_again():
    audit = granted_audit()
    audit.close(META)
    audit.reopen(META, "Complaint")
    assert report(audit=audit).draft is True


def test_a_report_refuses_an_unknown_format_or_template_version():
    with pytest.raises(InvalidValueError) as bad_format:
        report("odt")
    assert bad_format.value.rule == "invalid-format"
    with pytest.raises(InvalidValueError) as bad_version:
        report(layout=template(revisions=1), version=3)
    assert bad_version.value.rule == "invalid-template_version"


def test_a_report_refuses_a_retired_or_certificate_template():
    retired = template()
    retired.retire(META, DECIDED)
    refused("document.template_retired", lambda: report(layout=retired))
    certificate_layout = template("certificate")
    refused("document.template_wrong_kind", lambda: report(layout=certificate_layout))


def test_a_cancelled_audit_has_no_report():
    audit = started_audit()
    cancelled = type(audit).plan(
        META,
        organization_id=ORG,
        site_ids=(SITE_A,),
        standard_template_id=TEMPLATE,
        standard_version=1,
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_type="stage_1",
        planned_start=DECIDED,
        planned_end=DECIDED,
        scope_statement="Pumps",
    )
    cancelled.cancel(META, "Client withdrew")
    refused("document.audit_cancelled", lambda: report(audit=cancelled))


def test_people_named_are_the_team_reviewer_decider_and_verifiers_sorted():
    audit = granted_audit()
    assert people_named(audit) == tuple(sorted({LEAD, REVIEWER, DECIDER}))


# Requesting a certificate's document


def test_a_certificate_document_has_the_id_of_its_certificate_version():
    certificate = issued_certificate()
    layout = template("certificate")
    sources = SourceVersions(organization=2, tenant=None)
    first = Document.request_certificate(META, certificate, 1, layout, sources)
    again = Document.request_certificate(META, certificate, 1, layout, sources)
    later = Document.request_certificate(META, certificate, 2, layout, sources)
    assert first.id == again.id == certificate_document_id(certificate.id, 1)
    assert later.id != first.id
    [requested] = first.collect_events()
    assert isinstance(requested, Document.Requested)
    assert requested.format == "pdf"
    assert requested.certificate_id == certificate.id
    assert requested.audit_id == certificate.audit_id
    assert requested.audit_version is None
    assert requested.draft is False


def test_a_certificate_document_needs_a_version_the_certificate_has_and_its_kind():
    certificate = issued_certificate()
    sources = SourceVersions(organization=2, tenant=None)
    layout = template("certificate")
    for version in (0, 3):
        with pytest.raises(InvalidValueError) as raised:
            Document.request_certificate(META, certificate, version, layout, sources)
        assert raised.value.rule == "invalid-certificate_version"
    refused(
        "document.template_wrong_kind",
        lambda: Document.request_certificate(META, certificate, 1, template(), sources),
    )


# Recording the outcome


def test_a_rendered_file_makes_the_document_ready():
    document = report()
    document.record_rendered(PROCESSOR, SHA, 1234, 7, PDF_NAME)
    [rendered] = document.collect_events()
    assert isinstance(rendered, Document.Rendered)
    assert rendered.media_type == "application/pdf"
    assert (rendered.sha256, rendered.size, rendered.page_count) == (SHA, 1234, 7)
    assert document.status is DocumentStatus.READY


def test_the_same_file_again_changes_nothing_and_another_file_is_refused():
    document = report()
    document.record_rendered(PROCESSOR, SHA, 1234, 7, PDF_NAME)
    document.collect_events()
    document.record_rendered(PROCESSOR, SHA, 1234, 7, PDF_NAME)
    assert document.collect_events() == []
    refused(
        "document.rendered_differently",
        lambda: document.record_rendered(PROCESSOR, OTHER_SHA, 1, 1, PDF_NAME),
        document,
    )
    refused(
        "document.already_rendered",
        lambda: document.record_failed(PROCESSOR, "font_missing", "No font"),
        document,
    )


def test_a_lasting_failure_is_recorded_once_and_takes_no_file():
    document = report()
    document.record_failed(PROCESSOR, "section_without_data", "No findings")
    [failed] = document.collect_events()
    assert isinstance(failed, Document.RenderFailed)
    assert document.status is DocumentStatus.FAILED
    document.record_failed(PROCESSOR, "section_without_data", "Retried")
    assert document.collect_events() == []
    refused(
        "document.failed_differently",
        lambda: document.record_failed(PROCESSOR, "other", "Other"),
        document,
    )
    refused(
        "document.render_failed",
        lambda: document.record_rendered(PROCESSOR, SHA, 1, 1, PDF_NAME),
        document,
    )


@pytest.mark.parametrize(
    ("sha256", "size", "pages", "name", "field"),
    [
        ("A" * 64, 1, 1, PDF_NAME, "sha256"),
        ("a" * 63, 1, 1, PDF_NAME, "sha256"),
        (SHA, 0, 1, PDF_NAME, "size"),
        (SHA, 1, 0, PDF_NAME, "page_count"),
        (SHA, 1, 1, "report.docx", "file_name"),
        (SHA, 1, 1, "../report.pdf", "file_name"),
        (SHA, 1, 1, ".pdf", "file_name"),
        (SHA, 1, 1, "a\tb.pdf", "file_name"),
        (SHA, 1, 1, "a\u202eb.pdf", "file_name"),
    ],
)
def test_a_rendering_with_a_bad_value_is_refused(sha256, size, pages, name, field):
    document = report()
    with pytest.raises(InvalidValueError) as raised:
        document.record_rendered(PROCESSOR, sha256, size, pages, name)
    assert raised.value.field == field
    assert document.collect_events() == []


def test_a_failure_code_is_a_stable_lower_case_code():
    document = report()
    for code in ("", "Bad Code", "x" * 101, "1st"):
        with pytest.raises(InvalidValueError):
            document.record_failed(PROCESSOR, code, "Detail")
    assert document.collect_events() == []


OUTCOMES = st.lists(
    st.one_of(
        st.tuples(st.just("rendered"), st.sampled_from([SHA, OTHER_SHA])),
        st.tuples(st.just("failed"), st.sampled_from(["a_code", "b_code"])),
    ),
    max_size=6,
)


@given(OUTCOMES)
def test_whatever_the_processor_records_a_document_ends_at_most_once(outcomes):
    document = report()
    for outcome, value in outcomes:
        try:
            if outcome == "rendered":
                document.record_rendered(PROCESSOR, value, 10, 1, PDF_NAME)
            else:
                document.record_failed(PROCESSOR, value, "Detail")
        except RuleViolationError:
            pass
    events = document.collect_events()
    assert len(events) == (1 if outcomes else 0)
    if outcomes:
        first, value = outcomes[0]
        [event] = events
        if first == "rendered":
            assert isinstance(event, Document.Rendered)
            assert event.sha256 == value
        else:
            assert isinstance(event, Document.RenderFailed)
            assert event.code == value


# File names


def test_a_report_file_name_is_one_a_person_would_keep():
    name = report_file_name(
        "ISO 9001", "stage_2", "Nordic Valves", date(2026, 12, 4), DocumentFormat.PDF
    )
    assert name == PDF_NAME


def test_file_names_keep_letters_of_any_script_and_drop_punctuation():
    name = report_file_name(
        "ISO 14001:2015",
        "surveillance",
        "  Łódź / Zürich  Ærø A/S ",
        date(2026, 1, 2),
        DocumentFormat.DOCX,
    )
    assert name == "ISO-14001-2015-surveillance-Łódź-Zürich-Ærø-A-S-2026-01-02.docx"
    certificate = certificate_file_name(
        "ACME-2026-000123", 2, "İstanbul Vana", DocumentFormat.PDF
    )
    assert certificate == "ACME-2026-000123-rev-2-İstanbul-Vana.pdf"


def test_a_file_name_is_never_empty_or_too_long():
    assert file_name_of(["///", "  "], DocumentFormat.PDF) == "document.pdf"
    long = file_name_of(["x" * 500], DocumentFormat.DOCX)
    assert len(long) == 200
    assert long.endswith(".docx")
