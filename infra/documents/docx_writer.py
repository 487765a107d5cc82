"""Print a :class:`~infra.documents.blocks.Content` as a DOCX (python-docx).

Headings use Word's built-in "Heading 1"/"Heading 2" styles (the navigation
pane shows the outline); every page has the running head (and DRAFT for a
draft) and a "Page N of M" footer made of ``PAGE`` and ``NUMPAGES`` fields,
which Word computes when it lays the document out. The file's properties
carry the content's fixed timestamp, and the ZIP is re-written by
:func:`~infra.documents.reproducible_zip.reproducible_zip`, so the same
content gives the same bytes.
"""

from __future__ import annotations

import io
from typing import assert_never

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from infra.documents.blocks import (
    Block,
    Content,
    Heading,
    PageBreak,
    QrCode,
    Table,
    Text,
    TextStyle,
)
from infra.documents.docx_tables import docx_table
from infra.documents.qr import qr_png
from infra.documents.reproducible_zip import reproducible_zip

_PROPERTY_MAX = 255
_STYLE_NAMES = {
    TextStyle.TITLE: "Title",
    TextStyle.CENTERED_TITLE: "Title",
    TextStyle.SUBTITLE: "Subtitle",
}
_CENTERED = (TextStyle.CENTERED, TextStyle.CENTERED_TITLE, TextStyle.PROMINENT)


def write_docx(content: Content) -> bytes:
    """The DOCX file of ``content``."""
    doc = Document()
    for section in doc.sections:
        _page_setup(section, content)
    _properties(doc, content)
    for block in content.blocks:
        _add(doc, block)
    buffer = io.BytesIO()
    doc.save(buffer)
    return reproducible_zip(buffer.getvalue())


def _add(doc: DocxDocument, block: Block) -> None:
    if isinstance(block, Heading):
        doc.add_heading(block.text, min(block.level, 2))
    elif isinstance(block, Text):
        _text(doc.add_paragraph(style=_STYLE_NAMES.get(block.style)), block)
    elif isinstance(block, Table):
        body = doc.element.body
        body.sectPr.addprevious(docx_table(block))
        doc.add_paragraph()  # keeps adjacent tables apart
    elif isinstance(block, QrCode):
        doc.add_picture(io.BytesIO(qr_png(block.data)), width=Mm(block.size_mm))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _text(doc.add_paragraph(), Text(block.caption, TextStyle.SMALL))
    elif isinstance(block, PageBreak):
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    else:
        assert_never(block)


def _text(paragraph: Paragraph, block: Text) -> None:
    if block.style in _CENTERED:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    for index, line in enumerate(block.text.split("\n")):
        if index:
            run.add_break()
        run.add_text(line)
    if block.style is TextStyle.SMALL:
        run.font.size = Pt(8)
    elif block.style is TextStyle.PROMINENT:
        run.font.size = Pt(18)
        run.bold = True


def _page_setup(section: Section, content: Content) -> None:
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)
    section.header_distance = section.footer_distance = Mm(10)
    head = section.header.paragraphs[0]
    head.add_run(content.running_head).font.size = Pt(8)
    if content.draft:
        mark = section.header.add_paragraph().add_run("DRAFT: not a final document")
        mark.bold = True
        mark.font.size = Pt(8)
        mark.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot.add_run("Page ")
    _field(foot, "PAGE", "1")
    foot.add_run(" of ")
    _field(foot, "NUMPAGES", "1")


def _field(paragraph: Paragraph, instruction: str, shown: str) -> None:
    """Append a simple field (e.g. ``PAGE``) whose value Word computes."""
    field = OxmlElement("w:fldSimple", {qn("w:instr"): instruction})
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _properties(doc: DocxDocument, content: Content) -> None:
    props = doc.core_properties
    props.title = content.title[:_PROPERTY_MAX]
    props.subject = content.subject[:_PROPERTY_MAX]
    props.author = props.last_modified_by = content.author[:_PROPERTY_MAX]
    props.keywords = "; ".join(content.keywords)[:_PROPERTY_MAX]
    props.identifier = content.identifier[:_PROPERTY_MAX]
    props.comments = f"Rendered by AssureHub from {content.identifier}"[:_PROPERTY_MAX]
    props.content_status = "Draft" if content.draft else "Final"
    props.language = "en"
    props.revision = 1
    stamp = content.timestamp.replace(tzinfo=None)
    props.created = props.modified = props.last_printed = stamp
