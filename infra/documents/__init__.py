"""Documents: audit reports and certificates rendered as PDF and DOCX files.

What it holds: the renderer's input (:mod:`~infra.documents.views`), the
format-neutral content of each kind of document
(:mod:`~infra.documents.report_content`,
:mod:`~infra.documents.certificate_content`), the two printers
(:mod:`~infra.documents.pdf_writer`, :mod:`~infra.documents.docx_writer`),
the embedded fonts and the entry points :func:`render_report` and
:func:`render_certificate`.

Guarantees: rendering is pure and reproducible. The same view gives the same
bytes in any process, time zone or locale (no clock, random ids or unordered
iteration; reportlab's invariant mode; DOCX zip entries with fixed dates and
order), provided the same versions of reportlab, python-docx, segno and zlib.
A :class:`RenderError` is a lasting failure, never a transient one.

What it may import: the standard library, :mod:`domain`, python-docx (and
its lxml), reportlab and segno. Nothing of Postgres, Kafka, Redis, FastAPI
or the settings: loading aggregates, storing files and recording events
belong to the processor that calls it.
"""

from domain.document_values import DocumentFormat
from infra.documents.errors import RenderError
from infra.documents.rendering import (
    RenderedDocument,
    render_certificate,
    render_report,
)
from infra.documents.views import (
    CertificateView,
    CertifiedSiteView,
    ClauseAssessmentView,
    DecisionView,
    FindingView,
    ReportView,
    SiteView,
    TeamMemberView,
)

__all__ = [
    "CertificateView",
    "CertifiedSiteView",
    "ClauseAssessmentView",
    "DecisionView",
    "DocumentFormat",
    "FindingView",
    "RenderError",
    "RenderedDocument",
    "ReportView",
    "SiteView",
    "TeamMemberView",
    "render_certificate",
    "render_report",
]
