"""Tables for the DOCX, written as WordprocessingML in one piece.

python-docx's cell-by-cell API walks the whole table for each cell it
touches, which takes seconds for a report of 2,000 clauses; the XML of a
table is instead composed as text and parsed once. The header row is marked
``w:tblHeader`` so Word repeats it on each page; a label/value table (no
header) prints its first column bold.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from docx.oxml import parse_xml
from docx.oxml.xmlchemy import BaseOxmlElement

from infra.documents.blocks import Table

TEXT_WIDTH_TWIPS = 9638
"""Width between 20 mm margins on A4 (170 mm), in twentieths of a point."""

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RUN_PROPS = '<w:rPr>{bold}<w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr>'
_PARAGRAPH = '<w:p><w:pPr><w:spacing w:before="0" w:after="0"/></w:pPr>{runs}</w:p>'
_HEADER_SHADE = '<w:shd w:val="clear" w:color="auto" w:fill="E6E6E6"/>'


def docx_table(table: Table) -> BaseOxmlElement:
    """The ``w:tbl`` element of ``table``, ready to insert into a body."""
    widths = [round(w * TEXT_WIDTH_TWIPS) for w in table.widths]
    parts = [
        f'<w:tbl xmlns:w="{_W}"><w:tblPr><w:tblStyle w:val="TableGrid"/>',
        f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>',
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="0" ',
        'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>',
        *(f'<w:gridCol w:w="{w}"/>' for w in widths),
        "</w:tblGrid>",
    ]
    if table.header is not None:
        parts.append("<w:tr><w:trPr><w:tblHeader/></w:trPr>")
        parts.extend(
            _cell(text, width, bold=True, shade=True)
            for text, width in zip(table.header, widths, strict=True)
        )
        parts.append("</w:tr>")
    label_column = table.header is None
    for row in table.rows:
        parts.append("<w:tr>")
        parts.extend(
            _cell(text, width, bold=label_column and i == 0, shade=False)
            for i, (text, width) in enumerate(zip(row, widths, strict=True))
        )
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    element: BaseOxmlElement = parse_xml("".join(parts))
    return element


def _cell(text: str, width: int, *, bold: bool, shade: bool) -> str:
    props = _RUN_PROPS.format(bold="<w:b/><w:bCs/>" if bold else "")
    lines = text.split("\n")
    body = "<w:br/>".join(
        f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in lines
    )
    paragraph = _PARAGRAPH.format(runs=f"<w:r>{props}{body}</w:r>")
    shading = _HEADER_SHADE if shade else ""
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shading}</w:tcPr>'
        f"{paragraph}</w:tc>"
    )
