"""The format-neutral content of a document: what to print, not how.

:mod:`~infra.documents.report_content` and
:mod:`~infra.documents.certificate_content` turn a view into a
:class:`Content`; :mod:`~infra.documents.pdf_writer` and
:mod:`~infra.documents.docx_writer` print it. Both formats therefore show the
same text in the same order, and the checks on text live in one place
(:func:`check_text`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from infra.documents.errors import RenderError


class TextStyle(StrEnum):
    """How a paragraph looks."""

    TITLE = "title"
    CENTERED_TITLE = "centered_title"
    SUBTITLE = "subtitle"
    BODY = "body"
    SMALL = "small"
    CENTERED = "centered"
    PROMINENT = "prominent"


@dataclass(frozen=True)
class Heading:
    """A heading of level 1 (section) or 2 (sub-section)."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Text:
    """A paragraph; line breaks in ``text`` are kept."""

    text: str
    style: TextStyle = TextStyle.BODY


@dataclass(frozen=True)
class Table:
    """A table, split across pages between rows.

    Attributes:
        header: The header row, repeated on each page; ``None`` for a
            label/value table whose first column is printed bold.
        rows: The body rows, each as long as ``widths``.
        widths: Relative column widths (fractions of the text width).
    """

    header: tuple[str, ...] | None
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]


@dataclass(frozen=True)
class QrCode:
    """A QR code of ``data``, ``size_mm`` wide, with a caption below it."""

    data: str
    size_mm: float
    caption: str


@dataclass(frozen=True)
class PageBreak:
    """Start a new page."""


Block = Heading | Text | Table | QrCode | PageBreak


@dataclass(frozen=True)
class Content:
    """One document: its properties and its blocks in order.

    Attributes:
        title: Document title (file properties and cover).
        subject: Document subject (file properties).
        author: The tenant's name (file properties).
        identifier: Stable id of what was rendered, e.g. ``audit <id> v12``.
        keywords: File-properties keywords.
        running_head: Text printed at the top of every page.
        timestamp: Fixed creation/modification time of the file.
        draft: Mark every page DRAFT.
        blocks: What the pages show, in order.
    """

    title: str
    subject: str
    author: str
    identifier: str
    keywords: tuple[str, ...]
    running_head: str
    timestamp: datetime
    draft: bool
    blocks: tuple[Block, ...]


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def check_text(content: Content) -> None:
    """Raise unless every string can be written to a DOCX and a PDF.

    Raises:
        RenderError: a string holds a control character, a lone surrogate
            or a non-character, which XML (and so DOCX) cannot carry.
    """
    for text in _strings(content):
        found = _NOT_XML.search(text)
        if found is not None:
            raise RenderError(
                f"text {text[:60]!r} holds the character "
                f"U+{ord(found.group()):04X}, which a document cannot carry"
            )


def _strings(content: Content) -> Iterator[str]:
    yield from (content.title, content.subject, content.author, content.identifier)
    yield from (*content.keywords, content.running_head)
    for block in content.blocks:
        if isinstance(block, Heading | Text):
            yield block.text
        elif isinstance(block, Table):
            yield from block.header or ()
            for row in block.rows:
                yield from row
        elif isinstance(block, QrCode):
            yield from (block.data, block.caption)
