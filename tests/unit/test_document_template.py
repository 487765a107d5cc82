"""DocumentTemplate aggregate: given events, when a command, then events or an error."""

from __future__ import annotations

from datetime import date

import pytest

from domain.document_template import (
    BRANDING_MAX,
    SIGNATURE_BLOCK_MAX,
    TITLE_MAX,
    DocumentKind,
    DocumentLayout,
    DocumentTemplate,
)
from domain.errors import InvalidValueError, NotFoundError, RuleViolationError
from domain.events import EventMeta
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
JAN_1 = date(2024, 1, 1)
BRANDING = "Acme Certification Ltd\nUKAS accredited 0001"
SIGNATURES = "Signed for Acme Certification Ltd\nCertification manager"
REPORT_SECTIONS = ("summary", "scope", "findings", "signatures")
CERTIFICATE_SECTIONS = ("holder", "scope", "validity", "signatures")


def created() -> DocumentTemplate:
    template = DocumentTemplate.create(
        META, "audit_report", "Audit report", BRANDING, REPORT_SECTIONS, SIGNATURES
    )
    template.collect_events()
    return template


def revise(template: DocumentTemplate, **changes: object) -> int:
    layout = {
        "title": "Audit report",
        "branding": BRANDING,
        "sections": REPORT_SECTIONS,
        "signature_block": SIGNATURES,
        **changes,
    }
    return template.revise(META, **layout)  # type: ignore[arg-type]


def refused(rule: str, command, template: DocumentTemplate) -> None:
    version = template.version
    with pytest.raises(RuleViolationError) as raised:
        command()
    assert raised.value.rule == rule
    assert template.collect_events() == []
    assert template.version == version


# Creating


def test_create_records_the_whole_layout_as_version_1():
    template = DocumentTemplate.create(
        META,
        DocumentKind.CERTIFICATE,
        "  Certificate of  registration ",
        "  Acme Certification Ltd \n\n\n\n UKAS   accredited 0001\n",
        [" holder", "scope ", "validity", "signatures"],
        SIGNATURES,
    )

    [event] = template.collect_events()
    assert isinstance(event, DocumentTemplate.Created)
    assert (event.kind, event.title, event.meta) == (
        "certificate",
        "Certificate of registration",
        META,
    )
    assert event.branding == "Acme Certification Ltd\n\nUKAS accredited 0001"
    assert event.sections == CERTIFICATE_SECTIONS
    assert template.tenant_id == "tenant-a"
    assert template.kind is DocumentKind.CERTIFICATE
    assert template.latest_version == 1
    assert (
        template.layout_version(1)
        == template.current
        == DocumentLayout(
            1,
            "Certificate of registration",
            "Acme Certification Ltd\n\nUKAS accredited 0001",
            CERTIFICATE_SECTIONS,
            SIGNATURES,
        )
    )
    assert not template.is_retired


@pytest.mark.parametrize(
    ("kind", "sections"),
    [
        (
            "audit_report",
            (
                "summary",
                "scope",
                "team",
                "assessment",
                "findings",
                "conclusion",
                "signatures",
            ),
        ),
        ("certificate", ("holder", "scope", "sites", "validity", "signatures")),
        ("certificate", ("signatures", "holder")),
    ],
)
def test_every_section_the_kind_offers_can_be_shown_in_any_order(kind, sections):
    template = DocumentTemplate.create(
        META, kind, "Title", BRANDING, sections, SIGNATURES
    )
    assert template.current.sections == sections


@pytest.mark.parametrize(
    ("kind", "sections"),
    [
        ("certificate", ("holder", "findings")),
        ("audit_report", ("summary", "validity")),
        ("audit_report", ("summary", "Summary")),
        ("audit_report", ("summary", "scope", "summary")),
        ("audit_report", ()),
        ("audit_report", "summary"),
    ],
)
def test_sections_must_be_offered_by_the_kind_and_each_shown_once(kind, sections):
    with pytest.raises(InvalidValueError) as raised:
        DocumentTemplate.create(META, kind, "Title", BRANDING, sections, SIGNATURES)
    assert raised.value.field == "sections"


@pytest.mark.parametrize(
    ("kind", "title", "branding", "signature_block", "field"),
    [
        ("invoice", "Title", BRANDING, SIGNATURES, "kind"),
        ("Certificate", "Title", BRANDING, SIGNATURES, "kind"),
        ("audit_report", " ", BRANDING, SIGNATURES, "title"),
        ("audit_report", "x" * (TITLE_MAX + 1), BRANDING, SIGNATURES, "title"),
        ("audit_report", "Title", "\n \n", SIGNATURES, "branding"),
        ("audit_report", "Title", "x" * (BRANDING_MAX + 1), SIGNATURES, "branding"),
        ("audit_report", "Title", BRANDING, "", "signature_block"),
        (
            "audit_report",
            "Title",
            BRANDING,
            "x" * (SIGNATURE_BLOCK_MAX + 1),
            "signature_block",
        ),
    ],
)
def test_create_refuses_invalid_values_naming_the_field(
    kind, title, branding, signature_block, field
):
    with pytest.raises(InvalidValueError) as raised:
        DocumentTemplate.create(
            META, kind, title, branding, REPORT_SECTIONS, signature_block
        )
    assert raised.value.field == field


# Revising


def test_revise_records_the_whole_new_layout_as_the_next_version():
    template = created()
    number = revise(template, sections=("summary", "team", "signatures"))

    [event] = template.collect_events()
    assert isinstance(event, DocumentTemplate.Revised)
    assert (
        event.template_version,
        event.title,
        event.branding,
        event.sections,
        event.signature_block,
    ) == (2, "Audit report", BRANDING, ("summary", "team", "signatures"), SIGNATURES)
    assert number == template.latest_version == 2
    assert template.current.sections == ("summary", "team", "signatures")


def test_earlier_versions_stay_readable_after_revisions():
    template = created()
    revise(template, title="Audit report v2")
    revise(template, title="Audit report v2", signature_block="Lead auditor")

    assert template.layout_version(1).title == "Audit report"
    assert template.layout_version(1).signature_block == SIGNATURES
    assert template.layout_version(2).title == "Audit report v2"
    assert template.layout_version(2).signature_block == SIGNATURES
    assert template.layout_version(3).title == "Audit report v2"
    assert template.layout_version(3).signature_block == "Lead auditor"


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"title": "  Audit   report "},
        {"branding": "Acme Certification Ltd \nUKAS accredited 0001\n"},
        {"sections": list(REPORT_SECTIONS)},
    ],
)
def test_a_revision_identical_to_the_current_version_is_refused(changes):
    template = created()
    refused(
        "document_template.unchanged", lambda: revise(template, **changes), template
    )
    assert template.latest_version == 1


def test_reordering_sections_is_a_revision():
    template = created()
    revise(template, sections=tuple(reversed(REPORT_SECTIONS)))
    assert template.current.sections == tuple(reversed(REPORT_SECTIONS))


def test_changing_only_the_line_breaks_of_the_signature_block_is_a_revision():
    template = created()
    revise(template, signature_block=SIGNATURES.replace("\n", " "))
    assert template.latest_version == 2


def test_identical_to_an_older_version_but_not_the_current_one_is_a_revision():
    template = created()
    revise(template, title="Changed")
    revise(template)
    assert template.current.title == template.layout_version(1).title
    assert template.latest_version == 3


def test_a_revision_may_show_only_sections_its_kind_offers():
    template = created()
    with pytest.raises(InvalidValueError) as raised:
        revise(template, sections=("summary", "holder"))
    assert raised.value.field == "sections"
    assert template.collect_events() == []


@pytest.mark.parametrize("number", [0, 2, -1])
def test_a_version_that_was_never_made_is_not_found(number):
    template = created()
    with pytest.raises(NotFoundError) as raised:
        template.layout_version(number)
    assert raised.value.kind == "document template version"
    assert raised.value.aggregate_id == number


# Retiring


def test_retire_records_the_date_and_keeps_every_version_readable():
    template = created()
    revise(template, title="Audit report v2")
    template.collect_events()
    template.retire(META, JAN_1)

    [event] = template.collect_events()
    assert isinstance(event, DocumentTemplate.Retired)
    assert event.retired_on == JAN_1
    assert template.is_retired
    assert template.layout_version(1).title == "Audit report"
    assert template.current.title == "Audit report v2"


@pytest.mark.parametrize(
    "command",
    [
        lambda t: revise(t, title="After retirement"),
        lambda t: t.retire(META, JAN_1),
    ],
)
def test_a_retired_template_takes_no_more_revisions(command):
    template = created()
    template.retire(META, JAN_1)
    template.collect_events()
    refused("document_template.retired", lambda: command(template), template)
    assert template.latest_version == 1


# Persistence


def test_every_version_survives_the_event_store():
    template = DocumentTemplate.create(
        META, "certificate", "Certificate", BRANDING, CERTIFICATE_SECTIONS, SIGNATURES
    )
    template.revise(META, "Certificate", BRANDING, ("holder", "sites"), SIGNATURES)
    template.retire(META, JAN_1)
    store = LibraryEventStore(in_memory_env())
    store.append(template)

    loaded = store.load(DocumentTemplate, template.id)

    assert loaded is not None
    assert loaded.kind is DocumentKind.CERTIFICATE
    assert loaded.layouts == template.layouts
    assert isinstance(loaded.layout_version(2).sections, tuple)
    assert (loaded.is_retired, loaded.retired_on) == (True, JAN_1)
