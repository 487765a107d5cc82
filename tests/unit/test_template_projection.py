"""Standard and document templates read model, from the real domain's events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from domain.document_template import DocumentTemplate
from domain.standard_template import StandardTemplate
from projections.envelope import EventEnvelope
from projections.rows import MemoryRows, Row
from projections.templates import (
    DOCUMENT_VERSIONS,
    DOCUMENTS,
    STANDARD_VERSIONS,
    STANDARDS,
    TemplateProjection,
)
from tests.unit.test_certificate_projection import Log
from tests.unit.test_document_template import (
    BRANDING,
    META,
    REPORT_SECTIONS,
    SIGNATURES,
)

JAN_1, JUL_1, DEC_1 = date(2024, 1, 1), date(2024, 7, 1), date(2024, 12, 1)
CONTEXT = {
    "clause_id": "4",
    "parent_id": None,
    "title": "Context of the organization",
    "text": "Understand the context.",
}
ISSUES = {
    "clause_id": "4.1",
    "parent_id": "4",
    "title": "Understanding the organization",
    "text": "Determine issues.",
}
PARTIES = {
    "clause_id": "4.2",
    "parent_id": "4",
    "title": "Interested parties",
    "text": "Determine interested parties.",
}


def project(envelopes: list[EventEnvelope]) -> MemoryRows:
    projection = TemplateProjection()
    store = MemoryRows(projection.tables)
    for envelope in envelopes:
        projection.apply(envelope, store)
    return store


def get(store: MemoryRows, table: str, *key: object) -> Row:
    found = store.get(table, ("tenant-a", *key))
    assert found is not None
    return found


def add(template: StandardTemplate, clause: Mapping[str, str | None]) -> None:
    template.add_clause(
        META,
        str(clause["clause_id"]),
        str(clause["title"]),
        str(clause["text"]),
        clause["parent_id"],
    )


# -- standard templates --------------------------------------------------------


def test_a_draft_shows_its_clauses_in_order_as_they_are_edited():
    log = Log()
    template = StandardTemplate.draft(META, "ISO 9001", "2015", "QMS checklist")
    for clause in (CONTEXT, ISSUES, PARTIES):
        add(template, clause)
    template.change_clause(META, "4.1", "The organization", "Determine its issues.")
    template.remove_clause(META, "4.2")
    recorded = log.record(template)

    shown = get(project(log.envelopes), STANDARDS, template.id)

    changed = ISSUES | {"title": "The organization", "text": "Determine its issues."}
    assert shown["draft_clauses"] == [CONTEXT, changed]
    assert (shown["standard_name"], shown["edition"]) == ("ISO 9001", "2015")
    assert (shown["title"], shown["status"], shown["draft_version"]) == (
        "QMS checklist",
        "draft",
        1,
    )
    assert shown["latest_published_version"] is None
    assert (shown["version"], shown["position"]) == (6, recorded[-1].position)
    assert (shown["created_at"], shown["updated_at"]) == (
        recorded[0].time,
        recorded[-1].time,
    )
    assert list(project(log.envelopes).rows(STANDARD_VERSIONS)) == []


def lineage() -> tuple[StandardTemplate, Log]:
    """Draft, publish v1 on 1 January, new draft with one more clause, v2 in July."""
    log = Log()
    template = StandardTemplate.draft(META, "ISO 9001", "2015", "QMS checklist")
    add(template, CONTEXT)
    add(template, ISSUES)
    template.publish(META, JAN_1)
    template.start_new_draft(META)
    add(template, PARTIES)
    log.record(template)
    return template, log


def test_publishing_freezes_the_clause_tree_as_a_readable_version():
    template, log = lineage()

    store = project(log.envelopes)

    v1 = get(store, STANDARD_VERSIONS, template.id, 1)
    assert v1["clauses"] == [CONTEXT, ISSUES]
    assert (v1["published_on"], v1["supersedes"], v1["clause_count"]) == (
        JAN_1,
        None,
        2,
    )
    assert (v1["superseded"], v1["retired"], v1["version"]) == (False, False, 4)
    shown = get(store, STANDARDS, template.id)
    assert (shown["status"], shown["latest_published_version"]) == ("published", 1)
    assert shown["latest_published_on"] == JAN_1
    assert shown["draft_version"] == 2
    assert shown["draft_clauses"] == [CONTEXT, ISSUES, PARTIES]


def test_version_two_supersedes_version_one_which_stays_readable():
    template, log = lineage()
    template.publish(META, JUL_1)
    [published] = log.record(template)

    store = project(log.envelopes)

    v1 = get(store, STANDARD_VERSIONS, template.id, 1)
    v2 = get(store, STANDARD_VERSIONS, template.id, 2)
    assert (v1["superseded"], v1["clauses"]) == (True, [CONTEXT, ISSUES])
    assert (v1["version"], v1["position"]) == (7, published.position)
    assert (v2["superseded"], v2["supersedes"]) == (False, 1)
    assert v2["clauses"] == [CONTEXT, ISSUES, PARTIES]
    shown = get(store, STANDARDS, template.id)
    assert (shown["latest_published_version"], shown["draft_version"]) == (2, None)
    assert shown["draft_clauses"] == []


def test_retiring_discards_the_draft_and_keeps_every_version_readable():
    template, log = lineage()
    template.retire(META, DEC_1)
    [retired] = log.record(template)

    store = project(log.envelopes)

    shown = get(store, STANDARDS, template.id)
    assert (shown["status"], shown["retired_on"]) == ("retired", DEC_1)
    assert (shown["draft_version"], shown["draft_clauses"]) == (None, [])
    assert (shown["version"], shown["position"]) == (7, retired.position)
    v1 = get(store, STANDARD_VERSIONS, template.id, 1)
    assert (v1["retired"], v1["clauses"]) == (True, [CONTEXT, ISSUES])


# -- document templates --------------------------------------------------------


def test_document_template_keeps_every_layout_and_shows_the_current_one():
    log = Log()
    template = DocumentTemplate.create(
        META, "audit_report", "Audit report", BRANDING, REPORT_SECTIONS, SIGNATURES
    )
    template.revise(META, "Audit report (2024)", "Acme", ("summary",), SIGNATURES)
    created, revised = log.record(template)

    store = project(log.envelopes)

    shown = get(store, DOCUMENTS, template.id)
    assert (shown["kind"], shown["status"], shown["current_version"]) == (
        "audit_report",
        "active",
        2,
    )
    assert (shown["title"], shown["title_sort"]) == (
        "Audit report (2024)",
        "audit report (2024)",
    )
    assert (shown["version"], shown["updated_at"]) == (2, revised.time)
    first = get(store, DOCUMENT_VERSIONS, template.id, 1)
    assert first == first | {
        "title": "Audit report",
        "branding": BRANDING,
        "sections": list(REPORT_SECTIONS),
        "signature_block": SIGNATURES,
        "created_at": created.time,
        "retired": False,
        "version": 1,
    }
    second = get(store, DOCUMENT_VERSIONS, template.id, 2)
    assert (second["branding"], second["sections"]) == ("Acme", ["summary"])


def test_a_retired_document_template_marks_every_version_retired():
    log = Log()
    template = DocumentTemplate.create(
        META, "certificate", "Certificate", BRANDING, ("holder", "scope"), SIGNATURES
    )
    template.revise(META, "Certificate", BRANDING, ("holder",), SIGNATURES)
    template.retire(META, DEC_1)
    *_, retired = log.record(template)

    store = project(log.envelopes)

    shown = get(store, DOCUMENTS, template.id)
    assert (shown["status"], shown["retired_on"]) == ("retired", DEC_1)
    versions = store.find(DOCUMENT_VERSIONS, {"tenant_id": "tenant-a"})
    assert sorted((v["number"], v["retired"]) for v in versions) == [
        (1, True),
        (2, True),
    ]
    assert {v["position"] for v in versions} == {retired.position}


# -- order and determinism -----------------------------------------------------


def test_templates_end_the_same_in_either_order_and_on_replay():
    _, log = lineage()
    document = DocumentTemplate.create(
        META, "certificate", "Certificate", BRANDING, ("holder",), SIGNATURES
    )
    document_events = log.record(document)
    standard_events = [e for e in log.envelopes if e not in document_events]
    expected = project(standard_events + document_events).data

    assert project(document_events + standard_events).data == expected
    assert project(log.envelopes).data == expected
    assert get(project(log.envelopes), DOCUMENTS, document.id)["title"] == (
        "Certificate"
    )
