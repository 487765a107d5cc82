"""Print a :class:`~infra.documents.blocks.Content` as a PDF (reportlab).

Reproducible: the document is built with reportlab's invariant mode (fixed
creation date and file id, no random names), the fonts come from this
package and nothing reads the clock or the locale. The output bytes still
depend on the reportlab and zlib versions installed.
"""

from __future__ import annotations

import io
from functools import partial
from typing import assert_never
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Spacer,
)
from reportlab.platypus import PageBreak as PdfPageBreak
from reportlab.platypus.doctemplate import BaseDocTemplate

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
from infra.documents.fonts import BOLD, REGULAR, register_fonts
from infra.documents.pdf_pages import (
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    NumberedCanvas,
    PageFurniture,
)
from infra.documents.pdf_tables import pdf_table
from infra.documents.qr import QrCodeFlowable

TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN

_BASE = ParagraphStyle(
    "body", fontName=REGULAR, fontSize=9.5, leading=12.5, spaceAfter=6
)
_STYLES: dict[TextStyle, ParagraphStyle] = {
    TextStyle.BODY: _BASE,
    TextStyle.SMALL: ParagraphStyle("small", _BASE, fontSize=8, leading=10),
    TextStyle.TITLE: ParagraphStyle(
        "title", _BASE, fontName=BOLD, fontSize=22, leading=27, spaceAfter=10
    ),
    TextStyle.CENTERED_TITLE: ParagraphStyle(
        "centered_title",
        _BASE,
        fontName=BOLD,
        fontSize=24,
        leading=30,
        spaceAfter=14,
        alignment=TA_CENTER,
    ),
    TextStyle.SUBTITLE: ParagraphStyle("subtitle", _BASE, fontSize=13, leading=17),
    TextStyle.CENTERED: ParagraphStyle("centered", _BASE, alignment=TA_CENTER),
    TextStyle.PROMINENT: ParagraphStyle(
        "prominent", _BASE, fontName=BOLD, fontSize=18, leading=23, alignment=TA_CENTER
    ),
}
_CAPTION = ParagraphStyle("caption", _STYLES[TextStyle.SMALL], alignment=TA_CENTER)
_HEADINGS = {
    1: ParagraphStyle(
        "h1", _BASE, fontName=BOLD, fontSize=15, leading=19, spaceBefore=10
    ),
    2: ParagraphStyle(
        "h2", _BASE, fontName=BOLD, fontSize=12, leading=15, spaceBefore=8
    ),
}


def write_pdf(content: Content) -> tuple[bytes, int]:
    """The PDF file of ``content`` and its page count."""
    register_fonts()
    furniture = PageFurniture(content.running_head, content.draft)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=content.title,
        author=content.author,
        subject=content.subject,
        keywords=list(content.keywords),
        creator="AssureHub",
        initialFontName=REGULAR,
        pageCompression=1,
        invariant=1,
    )
    frame = Frame(MARGIN, MARGIN, TEXT_WIDTH, PAGE_HEIGHT - 2 * MARGIN, id="body")
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=furniture.on_page)])
    story = [f for block in content.blocks for f in _flowables(block)]
    doc.build(story, canvasmaker=partial(NumberedCanvas, furniture=furniture))
    return buffer.getvalue(), furniture.pages


def _flowables(block: Block) -> list[Flowable]:
    if isinstance(block, Heading):
        style = _HEADINGS[min(block.level, 2)]
        return [CondPageBreak(60), Paragraph(_markup(block.text), style)]
    if isinstance(block, Text):
        return [Paragraph(_markup(block.text), _STYLES[block.style])]
    if isinstance(block, Table):
        return [pdf_table(block, TEXT_WIDTH), Spacer(1, 8)]
    if isinstance(block, QrCode):
        return [
            QrCodeFlowable(block.data, block.size_mm),
            Paragraph(_markup(block.caption), _CAPTION),
        ]
    if isinstance(block, PageBreak):
        return [PdfPageBreak()]
    assert_never(block)


def _markup(text: str) -> str:
    """``text`` as reportlab paragraph markup: escaped, line breaks kept."""
    return escape(text).replace("\n", "<br/>")
