"""Documents read model, from the real domain's events, in any order across
the document and its audit."""

from __future__ import annotations

from itertools import permutations

from domain.audit import Audit
from domain.document import Document
from domain.events import EventMeta
from projections.documents import DOCUMENTS, DocumentProjection
from projections.envelope import EventEnvelope
from projections.rows import MemoryRows, Row
from tests.unit.test_certificate_projection import Log
from tests.unit.test_certification import granted_audit
from tests.unit.test_document import SHA, SOURCES, template

PROCESSOR = EventMeta("tenant-a", "system:documents", "req-9", "req-9")
NAME = "ISO-9001-stage-2-Pumps-2026-01-10.pdf"


def project(envelopes: list[EventEnvelope]) -> MemoryRows:
    projection = DocumentProjection()
    store = MemoryRows(projection.tables)
    for envelope in envelopes:
        projection.apply(envelope, store)
    return store


def row(store: MemoryRows, document: Document) -> Row:
    found = store.get(DOCUMENTS, ("tenant-a", document.id))
    assert found is not None
    return found


def requested(log: Log, audit: Audit, fmt: str = "pdf") -> Document:
    """A report of ``audit``, its request recorded in ``log``."""
    document = Document.request_audit_report(
        PROCESSOR, audit, template(), None, fmt, SOURCES
    )
    log.record(document)
    return document


def test_a_request_is_pending_then_ready_with_the_file_s_facts():
    log = Log()
    audit = granted_audit()
    log.record(audit)
    document = requested(log, audit)
    pending = row(project(log.envelopes), document)
    assert pending["status"] == "pending"
    assert (pending["kind"], pending["format"], pending["draft"]) == (
        "audit_report",
        "pdf",
        False,
    )
    assert pending["audit_version"] == audit.version
    assert pending["requested_by"] == "system:documents"
    assert pending["sha256"] is None
    document.record_rendered(PROCESSOR, SHA, 2048, 3, NAME)
    log.record(document)
    ready = row(project(log.envelopes), document)
    assert ready["status"] == "ready"
    assert (ready["sha256"], ready["size"], ready["page_count"]) == (SHA, 2048, 3)
    assert (ready["media_type"], ready["file_name"]) == ("application/pdf", NAME)
    assert ready["rendered_at"] is not None
    assert ready["version"] == 2


def test_a_failure_shows_its_code_and_detail():
    log = Log()
    document = requested(log, granted_audit(), "docx")
    document.record_failed(PROCESSOR, "section_without_data", "No findings")
    log.record(document)
    failed = row(project(log.envelopes), document)
    assert failed["status"] == "failed"
    assert (failed["failure_code"], failed["failure_detail"]) == (
        "section_without_data",
        "No findings",
    )


def test_clients_see_a_report_while_its_audit_is_closed_in_any_delivery_order():
    log = Log()
    audit = granted_audit()
    log.record(audit)
    before = requested(log, audit)  # requested while decided, not closed
    audit.close(PROCESSOR)
    closing = log.record(audit)
    after = requested(log, audit)
    documents = (str(before.id), str(after.id))
    report_events = [e for e in log.envelopes if e.subject in documents]
    # The audit's events keep their order; the documents' may come first or last.
    for order in permutations([closing, report_events]):
        envelopes = [e for group in order for e in group]
        store = project(envelopes)
        assert row(store, before)["client_visible"] is True
        assert row(store, after)["client_visible"] is True
    audit.reopen(PROCESSOR, "Complaint")
    reopening = log.record(audit)
    for order in permutations([closing + reopening, report_events]):
        store = project([e for group in order for e in group])
        assert row(store, before)["client_visible"] is False
        assert row(store, after)["client_visible"] is False


def test_a_report_of_an_audit_never_closed_is_hidden_from_clients():
    log = Log()
    document = requested(log, granted_audit())
    assert row(project(log.envelopes), document)["client_visible"] is False
