"""Render a requested document, and check a copy of an issued one.

:meth:`DocumentBuilder.build` loads what a document's request names at the
recorded versions, builds the view and renders it: the document processor
stores the bytes and records their SHA-256. :meth:`DocumentBuilder.verify`
builds it again and compares three digests: the file someone holds, the one
recorded when the document was issued, and the one rendered now. The copy is
the issued file when the first two agree; the third shows that the issued
file is what the recorded sources give.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import BinaryIO
from uuid import UUID

from domain.document import Document
from domain.document_template import DocumentKind
from domain.document_values import (
    DocumentFormat,
    certificate_file_name,
    report_file_name,
)
from domain.errors import NotFoundError
from infra.document_builds.certificate_views import certificate_view
from infra.document_builds.errors import DocumentBuildError
from infra.document_builds.report_views import report_view
from infra.document_builds.sources import (
    VersionedStore,
    load_certificate_sources,
    load_report_sources,
)
from infra.documents import (
    RenderedDocument,
    RenderError,
    render_certificate,
    render_report,
)

_CHUNK = 1 << 16
_VERIFY_RENDERS = threading.BoundedSemaphore(2)
"""Renders a process spends on verifying copies at once: each takes up to a
second and ~100 MiB, so callers queue rather than pile them up."""


@dataclass(frozen=True)
class BuiltDocument:
    """A rendered document and the file name a person would keep."""

    rendered: RenderedDocument
    file_name: str


@dataclass(frozen=True)
class CopyVerdict:
    """Whether a file is the one issued as a document.

    Attributes:
        file_sha256: SHA-256 of the file checked.
        recorded_sha256: SHA-256 recorded when the document was rendered
            (``None`` while it is pending or after it failed).
        rendered_sha256: SHA-256 of the document rendered again now from the
            recorded versions; rendered only for the issued file (``None``
            for any other file, and when that build failed).
        build_error: Why it could not be rendered again, if it could not.
    """

    file_sha256: str
    recorded_sha256: str | None
    rendered_sha256: str | None
    build_error: str | None = None

    @property
    def issued(self) -> bool:
        """The file is byte for byte the document issued."""
        return self.recorded_sha256 is not None and (
            self.file_sha256 == self.recorded_sha256
        )

    @property
    def reproduced(self) -> bool:
        """Rendering the recorded versions again gives the issued bytes
        (checked only when the file is the issued one)."""
        return self.recorded_sha256 is not None and (
            self.rendered_sha256 == self.recorded_sha256
        )


class DocumentBuilder:
    """Builds documents from the event store.

    Args:
        store: Where the aggregates are loaded from, at their versions.
        public_base_url: Printed in certificates' QR codes; part of the bytes,
            so a certificate re-renders identically only with the same one.
    """

    def __init__(self, store: VersionedStore, public_base_url: str) -> None:
        self._store = store
        self._base_url = public_base_url

    def build(self, document: Document) -> BuiltDocument:
        """Render ``document`` from the versions its request recorded.

        Raises:
            DocumentBuildError: a lasting failure (its ``code`` says which).
        """
        fmt = DocumentFormat(document.format)
        try:
            if document.kind is DocumentKind.AUDIT_REPORT:
                report = report_view(load_report_sources(self._store, document))
                name = report_file_name(
                    report.standard_name,
                    report.audit_type,
                    report.organization_name,
                    report.as_of,
                    fmt,
                )
                return BuiltDocument(render_report(report, fmt.value), name)
            sources = load_certificate_sources(self._store, document)
            certificate = certificate_view(sources, self._base_url)
            name = certificate_file_name(
                certificate.number, certificate.revision, certificate.holder_name, fmt
            )
            return BuiltDocument(render_certificate(certificate, fmt.value), name)
        except RenderError as e:
            raise DocumentBuildError("document.unrenderable", str(e)) from e

    def verify_copy(
        self, document_id: UUID, copy: BinaryIO, tenant_id: str | None = None
    ) -> CopyVerdict:
        """Compare the file ``copy`` with the document ``document_id`` (of
        ``tenant_id``, when given).

        Raises:
            NotFoundError: no such document (in that tenant).
        """
        document = self._store.load(Document, document_id)
        if document is None or tenant_id not in (None, document.tenant_id):
            raise NotFoundError("document", document_id)
        return self.verify(document, copy)

    def verify(self, document: Document, copy: BinaryIO) -> CopyVerdict:
        """Compare the file ``copy`` (read to its end) with ``document``."""
        digest = hashlib.sha256()
        while chunk := copy.read(_CHUNK):
            digest.update(chunk)
        recorded = document.rendering.sha256 if document.rendering else None
        if digest.hexdigest() != recorded:
            # Not the issued file: no render can change that answer, so
            # none is spent on it.
            return CopyVerdict(digest.hexdigest(), recorded, None, None)
        try:
            with _VERIFY_RENDERS:
                rendered: str | None = self.build(document).rendered.sha256
            error = None
        except DocumentBuildError as e:
            rendered, error = None, str(e)
        return CopyVerdict(digest.hexdigest(), recorded, rendered, error)
