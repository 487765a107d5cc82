"""Tables for the PDF: text wrapped ahead of time, row heights known.

reportlab's ``Paragraph`` cells and its own row measuring cost about a
millisecond per row, too slow for a report of 2,000 clauses. Here each cell
is wrapped once with the font's width table (:class:`~infra.documents.fonts.
Metrics`) into plain lines, and every row height is given to the table, so
reportlab only splits and draws. A row taller than :data:`MAX_ROW_LINES`
is continued in further rows, since reportlab cannot split a row.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib import colors
from reportlab.platypus import LongTable, TableStyle

from infra.documents.blocks import Table
from infra.documents.fonts import BOLD, REGULAR, Metrics, metrics

SIZE = 8.5
LEADING = 10.5
PAD = 3.0
MAX_ROW_LINES = 40
"""Lines per table row before it continues in the next row (< a page)."""


def wrap(text: str, font: Metrics, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` points.

    Breaks at spaces; a word wider than the line is broken between
    characters. Line breaks in ``text`` are kept.
    """
    lines: list[str] = []
    space = font.width(" ", SIZE)
    for paragraph in text.split("\n"):
        if font.width(paragraph, SIZE) <= width:
            lines.append(paragraph)
            continue
        line, line_width = "", 0.0
        for word in paragraph.split(" "):
            word_width = font.width(word, SIZE)
            if line and line_width + space + word_width <= width:
                line, line_width = f"{line} {word}", line_width + space + word_width
                continue
            if line:
                lines.append(line)
            while word_width > width and len(word) > 1:
                cut = _fitting(word, font, width)
                lines.append(word[:cut])
                word = word[cut:]
                word_width = font.width(word, SIZE)
            line, line_width = word, word_width
        lines.append(line)
    return lines


def _fitting(word: str, font: Metrics, width: float) -> int:
    total = 0.0
    for index, char in enumerate(word):
        total += font.width(char, SIZE)
        if total > width:
            return max(index, 1)
    return len(word)


def pdf_table(table: Table, text_width: float) -> LongTable:
    """The table as a reportlab flowable whose header row repeats per page."""
    widths = [w * text_width for w in table.widths]
    regular, bold = metrics(REGULAR), metrics(BOLD)
    data: list[list[str]] = []
    heights: list[float] = []
    if table.header is not None:
        cells = [
            wrap(c, bold, w - 2 * PAD)
            for c, w in zip(table.header, widths, strict=True)
        ]
        _add_row(data, heights, cells)
    for row in table.rows:
        cells = [
            wrap(c, bold if i == 0 and table.header is None else regular, w - 2 * PAD)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        _add_row(data, heights, cells)
    style: list[Any] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, SIZE, LEADING),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
        ("TOPPADDING", (0, 0), (-1, -1), PAD),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PAD),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.Color(0.6, 0.6, 0.6)),
    ]
    if table.header is None:
        style.append(("FONT", (0, 0), (0, -1), BOLD, SIZE, LEADING))
    else:
        style.append(("FONT", (0, 0), (-1, 0), BOLD, SIZE, LEADING))
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)))
    return LongTable(
        data,
        colWidths=widths,
        rowHeights=heights,
        repeatRows=0 if table.header is None else 1,
        style=TableStyle(style),
        hAlign="LEFT",
    )


def _add_row(
    data: list[list[str]], heights: list[float], cells: list[list[str]]
) -> None:
    """Append one row, continued in further rows past ``MAX_ROW_LINES``."""
    tallest = max(len(lines) for lines in cells)
    for start in range(0, tallest, MAX_ROW_LINES):
        piece = [lines[start : start + MAX_ROW_LINES] for lines in cells]
        data.append(["\n".join(lines) for lines in piece])
        heights.append(max(1, *(len(lines) for lines in piece)) * LEADING + 2 * PAD)
