"""Reports and certificates as a reader's software sees them.

Every file is read back with other software than the one that wrote it:
python-docx for DOCX, pypdf and poppler (pdftotext, pdftoppm) for PDF, zbar
for the certificate's QR code. The poppler and zbar programs are installed by
``scripts/test-tools.sh``; without them these tests fail, they do not skip.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from domain.document_template import SECTIONS, DocumentKind
from infra.documents import (
    RenderedDocument,
    RenderError,
    render_certificate,
    render_report,
)
from infra.documents.certificate_content import _SECTIONS as CERTIFICATE_SECTIONS
from infra.documents.report_content import _SECTIONS as REPORT_SECTIONS
from tests.document_views import (
    CITIES,
    VERIFICATION_URL,
    certificate_view,
    digests,
    report_layout,
    report_view,
    with_finding_changed,
)

ROOT = Path(__file__).resolve().parents[2]
REPORT_HEADINGS = {
    "summary": "Summary",
    "scope": "Scope",
    "team": "Audit team",
    "assessment": "Clause-by-clause assessment",
    "findings": "Findings",
    "conclusion": "Conclusion and decision",
    "signatures": "Signatures",
}


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run scripts/test-tools.sh", pytrace=False)
    return path


def pdftotext_pages(pdf: bytes, tmp_path: Path, pages: int) -> list[str]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return [
        subprocess.run(
            [tool("pdftotext"), "-f", str(n), "-l", str(n), "-enc", "UTF-8", path, "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for n in range(1, pages + 1)
    ]


def zbar(png: Path) -> str:
    out = subprocess.run(
        [tool("zbarimg"), "--quiet", "--raw", png], check=True, capture_output=True
    )
    return out.stdout.decode().strip()


@pytest.fixture(scope="module")
def draft_pdf() -> RenderedDocument:
    return render_report(report_view(draft=True), "pdf")


@pytest.fixture(scope="module")
def final_pdf() -> RenderedDocument:
    return render_report(report_view(draft=False), "pdf")


@pytest.fixture(scope="module")
def draft_docx() -> RenderedDocument:
    return render_report(report_view(draft=True), "docx")


def docx_text(document) -> str:
    cells = (c.text for t in document.tables for r in t.rows for c in r.cells)
    return "\n".join([*(p.text for p in document.paragraphs), *cells])


# -- DOCX ------------------------------------------------------------------


def test_docx_sections_are_real_headings_in_the_templates_order():
    order = ("findings", "signatures", "summary", "team")
    view = replace(report_view(), layout=report_layout(order))
    document = Document(io.BytesIO(render_report(view, "docx").content))
    headings = [
        p.text
        for p in document.paragraphs
        if p.style is not None and p.style.name == "Heading 1"
    ]
    assert headings == [REPORT_HEADINGS[name] for name in order]


def test_docx_tables_repeat_their_header_row_and_hold_every_clause(draft_docx):
    document = Document(io.BytesIO(draft_docx.content))
    clauses = next(t for t in document.tables if t.rows[0].cells[0].text == "Clause")
    assert len(clauses.rows) == 1 + len(report_view().assessments)
    assert clauses.rows[0]._tr.find(qn("w:trPr")).find(qn("w:tblHeader")) is not None
    assert clauses.rows[1]._tr.find(qn("w:trPr")) is None
    assert [c.text for c in clauses.rows[0].cells] == [
        "Clause",
        "Title",
        "Result",
        "Notes",
    ]


def test_docx_prints_unicode_names_as_text(draft_docx):
    text = docx_text(Document(io.BytesIO(draft_docx.content)))
    for city in CITIES:
        assert f"Plant {city}" in text
    assert "Zeynep Yılmaz (Lead auditor)" in text  # noqa: RUF001


def test_docx_properties_name_the_tenant_and_a_time_from_the_view(draft_docx):
    props = Document(io.BytesIO(draft_docx.content)).core_properties
    assert props.author == "Nordic Certification AB"
    assert props.title == "Audit report"
    assert (
        props.subject == "Stage 2 audit of Nordic Valves Łódź Sp. z o.o., ISO 9001:2015"
    )
    assert (
        props.created
        == props.modified
        == props.last_printed
        == datetime(2026, 12, 4, tzinfo=UTC)
    )
    assert props.revision == 1


def test_docx_pages_carry_page_n_of_m_and_draft(draft_docx):
    document = Document(io.BytesIO(draft_docx.content))
    for section in document.sections:
        instructions = [
            f.get(qn("w:instr"))
            for f in section.footer._element.iter(qn("w:fldSimple"))
        ]
        assert instructions == ["PAGE", "NUMPAGES"]
        assert "DRAFT" in "\n".join(p.text for p in section.header.paragraphs)
    assert draft_docx.page_count is None


def test_a_decided_audits_docx_is_not_marked_draft():
    final = Document(
        io.BytesIO(render_report(report_view(draft=False), "docx").content)
    )
    header = "\n".join(p.text for s in final.sections for p in s.header.paragraphs)
    assert "DRAFT" not in header


def test_docx_zip_entries_have_a_fixed_date_and_order(draft_docx):
    with zipfile.ZipFile(io.BytesIO(draft_docx.content)) as package:
        infos = package.infolist()
    assert infos[0].filename == "[Content_Types].xml"
    assert [i.filename for i in infos[1:]] == sorted(i.filename for i in infos[1:])
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


# -- PDF -------------------------------------------------------------------


def test_pdf_text_holds_the_unicode_names_and_its_page_count(draft_pdf):
    reader = PdfReader(io.BytesIO(draft_pdf.content))
    assert len(reader.pages) == draft_pdf.page_count > 2
    text = "\n".join(page.extract_text() for page in reader.pages)
    for city in CITIES:
        assert f"Plant {city}" in text
    assert reader.metadata is not None
    assert reader.metadata.title == "Audit report"
    assert reader.metadata.author == "Nordic Certification AB"


def test_pdf_embeds_dejavu_for_every_font_it_uses(draft_pdf):
    reader = PdfReader(io.BytesIO(draft_pdf.content))
    fonts = {}
    for page in reader.pages:
        resources = cast(DictionaryObject, page["/Resources"])
        for font in cast(DictionaryObject, resources["/Font"]).values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font["/FontDescriptor"].get_object()
    assert fonts
    for name, descriptor in fonts.items():
        assert name.split("+")[-1] in ("DejaVuSans", "DejaVuSans-Bold")
        assert "/FontFile2" in descriptor


def test_every_page_of_a_draft_pdf_says_draft_and_page_n_of_m(draft_pdf, tmp_path):
    pages = pdftotext_pages(draft_pdf.content, tmp_path, draft_pdf.page_count)
    total = draft_pdf.page_count
    for number, text in enumerate(pages, 1):
        assert "DRAFT" in text, f"page {number}"
        assert f"Page {number} of {total}" in text


def test_a_decided_audits_pdf_is_not_marked_draft(final_pdf, tmp_path):
    pages = pdftotext_pages(final_pdf.content, tmp_path, final_pdf.page_count)
    assert not any("DRAFT" in text for text in pages)
    assert "Certification granted" in "".join(pages)


def test_pdf_table_header_repeats_on_each_page_the_table_spans(draft_pdf, tmp_path):
    pages = pdftotext_pages(draft_pdf.content, tmp_path, draft_pdf.page_count)
    spanned = [t for t in pages if "Sampled five records" in t]
    assert len(spanned) >= 2
    for text in spanned:
        assert all(word in text for word in ("Clause", "Title", "Result", "Notes"))


def test_rows_taller_than_a_page_continue_on_the_next():
    long_notes = " ".join(f"Observation {n} at Zürich." for n in range(400))
    view = report_view(clauses=3, findings=1)
    tall = replace(view.assessments[1], notes=long_notes)
    view = replace(view, assessments=(view.assessments[0], tall, view.assessments[2]))
    rendered = render_report(view, "pdf")
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(rendered.content)).pages
    )
    assert "Observation 399 at Zürich." in text


def test_sections_with_nothing_recorded_say_so():
    view = replace(report_view(), team=(), assessments=(), findings=(), conclusion=None)
    text = "".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(render_report(view, "pdf").content)).pages
    )
    for line in (
        "No audit team recorded.",
        "No clause assessments recorded.",
        "No findings recorded.",
        "No conclusion recorded.",
    ):
        assert line in text


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_markup_characters_print_as_text(fmt):
    name = 'Nordic & <b>Valves</b> "AB"'
    view = replace(report_view(clauses=2, findings=1), organization_name=name)
    rendered = render_report(view, fmt)
    if fmt == "pdf":
        reader = PdfReader(io.BytesIO(rendered.content))
        text = "".join(p.extract_text() for p in reader.pages)
    else:
        text = docx_text(Document(io.BytesIO(rendered.content)))
    assert name in text


# -- certificate -------------------------------------------------------------


def test_certificate_pdf_qr_decodes_to_the_verification_url(tmp_path):
    rendered = render_certificate(certificate_view(), "pdf")
    assert rendered.page_count == 1
    (tmp_path / "cert.pdf").write_bytes(rendered.content)
    subprocess.run(
        [tool("pdftoppm"), "-r", "150", "-png", "-singlefile", "cert.pdf", "cert"],
        check=True,
        cwd=tmp_path,
    )
    assert zbar(tmp_path / "cert.png") == VERIFICATION_URL
    text = pdftotext_pages(rendered.content, tmp_path, 1)[0]
    assert "NCAB-2026-000123" in text
    assert "2029-12-04" in text
    for city in CITIES:
        assert f"Valves, {city}" in text


def test_certificate_docx_qr_image_decodes_to_the_verification_url(tmp_path):
    content = render_certificate(certificate_view(), "docx").content
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        images = [n for n in package.namelist() if n.startswith("word/media/")]
        assert len(images) == 1
        (tmp_path / "qr.png").write_bytes(package.read(images[0]))
    assert zbar(tmp_path / "qr.png") == VERIFICATION_URL
    document = Document(io.BytesIO(content))
    assert "Nordic Valves Łódź Sp. z o.o." in docx_text(document)


# -- reproducibility -----------------------------------------------------------


def render_elsewhere(
    env: dict[str, str], *, accelerated: bool = True
) -> dict[str, str]:
    script = (
        "import runpy; runpy.run_module('tests.document_views', run_name='__main__')"
    )
    if not accelerated:  # reportlab falls back to its pure-Python routines
        script = f"import sys; sys.modules['_rl_accel'] = None; {script}"
    out = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        timeout=60,
    ).stdout
    return dict(line.split() for line in out.splitlines())


def test_same_view_gives_the_same_bytes_in_other_processes_zones_and_locales():
    here = digests()
    auckland = render_elsewhere(
        {"TZ": "Pacific/Auckland", "LC_ALL": "tr_TR.UTF-8", "PYTHONHASHSEED": "1"}
    )
    honolulu = render_elsewhere(
        {"TZ": "Pacific/Honolulu", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "2"}
    )
    assert auckland == honolulu == here
    assert len(here) == 4


def test_reportlabs_c_accelerator_does_not_change_the_bytes():
    assert render_elsewhere({}, accelerated=False) == digests()


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_changing_one_finding_changes_the_sha256(fmt):
    view = report_view()
    before = render_report(view, fmt)
    after = render_report(with_finding_changed(view), fmt)
    assert before.sha256 != after.sha256
    assert render_report(view, fmt).sha256 == before.sha256


# -- refusals ------------------------------------------------------------------


def test_every_section_the_domain_offers_has_a_renderer():
    assert set(REPORT_SECTIONS) == set(SECTIONS[DocumentKind.AUDIT_REPORT])
    assert set(CERTIFICATE_SECTIONS) == set(SECTIONS[DocumentKind.CERTIFICATE])


def test_a_certificate_layout_cannot_render_a_report():
    view = replace(report_view(), layout=report_layout(("summary", "holder")))
    with pytest.raises(RenderError, match="'holder'"):
        render_report(view, "pdf")


def test_a_section_named_twice_is_refused():
    view = replace(report_view(), layout=report_layout(("summary", "summary")))
    with pytest.raises(RenderError, match="twice"):
        render_report(view, "docx")


def test_an_unknown_format_is_refused():
    with pytest.raises(RenderError, match="'odt'"):
        render_certificate(certificate_view(), "odt")


def test_text_a_document_cannot_carry_is_refused():
    view = replace(certificate_view(), holder_name="Nordic\x00Valves")
    with pytest.raises(RenderError, match="U\\+0000"):
        render_certificate(view, "docx")
