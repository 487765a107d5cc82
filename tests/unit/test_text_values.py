"""The domain's text values refuse what a read model, a PDF or a message cannot
carry: U+0000, unpaired surrogates and control characters (tab and line
breaks only in multi-line fields), whatever entry point a command came in by."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.document_template import DocumentKind, DocumentTemplate
from domain.errors import InvalidValueError
from domain.events import EventMeta
from domain.organization import Organization
from domain.standard_template import StandardTemplate
from domain.values import (
    bounded_multiline_text,
    bounded_text,
    optional_text,
    unsafe_character,
)

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
REFUSED_EVERYWHERE = [
    "\x00",
    "\ud800",
    "\udfff",
    "\x01",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9f",
    "\ufffe",
    "\uffff",
]
LINE_BREAKS = ["\t", "\n", "\r"]
CARRIED = ["Qualität \u2013 品質 😀", "a\u00a0b", "line\u2028separator", "\ufeffbom"]


@pytest.mark.parametrize("bad", REFUSED_EVERYWHERE)
@pytest.mark.parametrize("multiline", [False, True])
def test_nul_surrogates_and_control_characters_are_named_with_their_place(
    bad, multiline
):
    problem = unsafe_character(f"ab{bad}c", multiline=multiline)
    assert problem is not None
    assert f"U+{ord(bad):04X}" in problem
    assert "character 3" in problem


@pytest.mark.parametrize("brk", LINE_BREAKS)
def test_tab_and_line_breaks_are_text_only_in_multiline_fields(brk):
    assert unsafe_character(f"a{brk}b", multiline=True) is None
    problem = unsafe_character(f"a{brk}b")
    assert problem is not None
    assert "single line" in problem


@pytest.mark.parametrize("text", CARRIED)
def test_other_unicode_is_carried(text):
    assert unsafe_character(text) is None
    assert bounded_text(text, "title", 100) == " ".join(text.split())


@pytest.mark.parametrize("bad", [*REFUSED_EVERYWHERE, *LINE_BREAKS])
def test_single_line_text_refuses_naming_the_field(bad):
    with pytest.raises(InvalidValueError) as raised:
        bounded_text(f"Quality{bad}", "title", 100)
    assert raised.value.field == "title"
    assert raised.value.detail.startswith("title must")


def test_a_lone_line_break_in_an_optional_single_line_field_is_refused_not_dropped():
    with pytest.raises(InvalidValueError):
        optional_text("\n", "registration_number", 50)
    assert optional_text("  ", "registration_number", 50) is None


def test_multiline_text_folds_or_keeps_line_breaks_and_still_refuses_nul():
    assert bounded_text("a\tb\r\nc", "reason", 100, multiline=True) == "a b c"
    assert bounded_multiline_text("a\tb\r\nc", "text", 100) == "a b\nc"
    for refuse in (
        lambda: bounded_text("a\n\x00", "reason", 100, multiline=True),
        lambda: bounded_multiline_text("a\n\x85", "text", 100),
        lambda: optional_text("a\ud800", "notes", 100, multiline=True),
    ):
        with pytest.raises(InvalidValueError):
            refuse()


@given(st.text(max_size=40), st.booleans())
def test_text_is_refused_exactly_when_it_cannot_be_carried(value, multiline):
    if unsafe_character(value, multiline=multiline) is not None or not value.split():
        with pytest.raises(InvalidValueError):
            bounded_text(value, "name", 200, multiline=multiline)
        return
    text = bounded_text(value, "name", 200, multiline=multiline)
    assert unsafe_character(text) is None
    text.encode("utf-8")  # no unpaired surrogate left to fail on


def test_a_standard_template_title_with_nul_is_never_recorded():
    with pytest.raises(InvalidValueError) as raised:
        StandardTemplate.draft(META, "ISO 9001", "2015", "Quality\x00management")
    assert raised.value.field == "title"


def test_an_organization_cannot_be_renamed_to_a_c1_control_character():
    org = Organization.register(META, "Acme Ltd", "gb")
    org.collect_events()
    with pytest.raises(InvalidValueError) as raised:
        org.rename(META, "Acme\x85Ltd")
    assert raised.value.field == "name"
    assert org.collect_events() == []


def test_document_branding_keeps_line_breaks_but_refuses_a_lone_surrogate():
    def create(branding: str) -> DocumentTemplate:
        return DocumentTemplate.create(
            META,
            DocumentKind.CERTIFICATE,
            "Certificate",
            branding,
            ["holder", "scope", "validity", "signatures"],
            "Signed",
        )

    [event] = create("Acme\nUKAS 0001").collect_events()
    assert isinstance(event, DocumentTemplate.Created)
    assert event.branding == "Acme\nUKAS 0001"
    with pytest.raises(InvalidValueError) as raised:
        create("Acme\ud800")
    assert raised.value.field == "branding"
