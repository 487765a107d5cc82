"""Render a report or certificate view as a PDF or DOCX file.

The functions are pure: a view in, bytes out, with no clock, locale,
randomness or I/O, so the same view renders to the same bytes in any
process. A :class:`~infra.documents.errors.RenderError` is a lasting failure
(the same view fails the same way again).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from domain.document_values import DocumentFormat
from infra.documents.blocks import Content, check_text
from infra.documents.certificate_content import certificate_content
from infra.documents.docx_writer import write_docx
from infra.documents.errors import RenderError
from infra.documents.pdf_writer import write_pdf
from infra.documents.report_content import report_content
from infra.documents.views import CertificateView, ReportView


@dataclass(frozen=True)
class RenderedDocument:
    """One rendered file.

    Attributes:
        content: The file's bytes.
        media_type: Its ``Content-Type``.
        page_count: Pages of a PDF. ``None`` for a DOCX: its pages are laid
            out by the word processor that opens it (fonts, printer), so no
            count made here would be true.
        sha256: Hex SHA-256 of ``content``, as recorded in the document's event.
    """

    content: bytes
    media_type: str
    page_count: int | None
    sha256: str


def render_report(view: ReportView, fmt: DocumentFormat | str) -> RenderedDocument:
    """Render an audit report.

    Args:
        view: Everything the report shows.
        fmt: ``"pdf"`` or ``"docx"``.

    Returns:
        The file, its media type, page count (PDF only) and SHA-256.

    Raises:
        RenderError: unknown format; a layout section that is not a report
            section, or one named twice; text a document cannot carry.
    """
    document_format = _format(fmt)
    return _render(report_content(view), document_format)


def render_certificate(
    view: CertificateView, fmt: DocumentFormat | str
) -> RenderedDocument:
    """Render a certificate, with a QR code of its verification URL.

    Args:
        view: Everything the certificate shows.
        fmt: ``"pdf"`` or ``"docx"``.

    Returns:
        The file, its media type, page count (PDF only) and SHA-256.

    Raises:
        RenderError: unknown format; a layout section that is not a
            certificate section, or one named twice; text a document cannot
            carry.
    """
    document_format = _format(fmt)
    return _render(certificate_content(view), document_format)


def _format(fmt: DocumentFormat | str) -> DocumentFormat:
    try:
        return DocumentFormat(fmt)
    except ValueError:
        allowed = ", ".join(f.value for f in DocumentFormat)
        raise RenderError(f"format {fmt!r} is not one of {allowed}") from None


def _render(content: Content, fmt: DocumentFormat) -> RenderedDocument:
    check_text(content)
    pages: int | None
    if fmt is DocumentFormat.PDF:
        data, pages = write_pdf(content)
    else:
        data, pages = write_docx(content), None
    return RenderedDocument(
        data, fmt.media_type, pages, hashlib.sha256(data).hexdigest()
    )
