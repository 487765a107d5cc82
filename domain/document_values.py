"""Values and checks of the :mod:`domain.document` aggregate: formats and
statuses, the source versions a document is built from, the template layout a
new document may use, a rendered file's facts, and the file names a person
would keep.

Everything here is immutable; events carry plain ``str``/``int``/``UUID``
fields and the aggregate builds these values from them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.document_template import DocumentKind, DocumentTemplate
from domain.errors import InvalidValueError, RuleViolationError
from domain.values import bounded_text

FILE_NAME_MAX = 200
FAILURE_DETAIL_MAX = 2000
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FAILURE_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,99}")
_NOT_IN_FILE_NAMES = re.compile(r"[^\w.]+")
"""Runs of anything but letters, digits, ``_`` and ``.`` (Unicode-aware)."""


class DocumentFormat(StrEnum):
    """The file format a document is rendered in."""

    PDF = "pdf"
    DOCX = "docx"

    @property
    def media_type(self) -> str:
        """The IANA media type of files of this format."""
        return _MEDIA_TYPES[self]

    @property
    def extension(self) -> str:
        """``.pdf`` or ``.docx``."""
        return f".{self.value}"


_MEDIA_TYPES = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.DOCX: "application/vnd.openxmlformats-officedocument"
    ".wordprocessingml.document",
}


class DocumentStatus(StrEnum):
    """``pending`` until the processor records the file (``ready``) or a
    lasting failure (``failed``); either is final."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class SourceVersions:
    """The versions of the aggregates a document is built from, besides its
    subject (the audit or certificate) and its template, so that a later
    render from the same versions gives the same bytes.

    Attributes:
        organization: Version of the audited or certified organization
            (name, address, sites).
        tenant: Version of the tenant's record (its name, printed as the
            issuer); ``None`` when the tenant has no record (development).
        standard_template: Version of the standard-template aggregate the
            audit works from (clause titles); ``None`` for certificates.
        people: ``(actor id, account version)`` of each person the document
            names who has an account in the tenant, sorted by actor id; a
            person without one is printed by actor id.
    """

    organization: int
    tenant: int | None
    standard_template: int | None = None
    people: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Rendering:
    """The file the processor rendered and stored in the file store.

    Attributes:
        sha256: Lower-case hex SHA-256 of the bytes (the file store's key).
        size: Bytes.
        page_count: Pages, where the format has them (``None`` for DOCX).
        media_type: The format's media type.
        file_name: The name offered on download, e.g.
            ``ISO-9001-stage-2-Nordic-Valves-2026-12-04.pdf``.
    """

    sha256: str
    size: int
    page_count: int | None
    media_type: str
    file_name: str

    @classmethod
    def of(
        cls,
        sha256: str,
        size: int,
        page_count: int | None,
        file_name: str,
        fmt: DocumentFormat,
    ) -> Rendering:
        """A checked rendering of a ``fmt`` document.

        Raises:
            InvalidValueError: not a lower-case hex SHA-256; an empty file; a
                page count below 1; a file name that is blank, too long,
                holds a path separator or control character, starts with a
                dot, or does not end in the format's extension.
        """
        sha256 = sha256_hex(sha256)
        if size < 1:
            raise InvalidValueError("size", "a rendered file has at least one byte")
        if page_count is not None and page_count < 1:
            raise InvalidValueError("page_count", "page_count must be at least 1")
        return cls(sha256, size, page_count, fmt.media_type, _file_name(file_name, fmt))


def sha256_hex(value: str) -> str:
    """``value`` if it is a SHA-256 as 64 lower-case hex digits.

    Raises:
        InvalidValueError: it is not.
    """
    if not _SHA256.fullmatch(value):
        raise InvalidValueError("sha256", "sha256 must be 64 lower-case hex digits")
    return value


def _file_name(value: str, fmt: DocumentFormat) -> str:
    name = bounded_text(value, "file_name", FILE_NAME_MAX)
    if name != value or name.startswith(".") or "/" in name or "\\" in name:
        raise InvalidValueError(
            "file_name", f"{value!r} is not a plain file name (no path, no dot first)"
        )
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidValueError("file_name", "file_name holds a control character")
    if not name.lower().endswith(fmt.extension):
        raise InvalidValueError(
            "file_name", f"the file name of a {fmt.value} must end in {fmt.extension}"
        )
    return name


def failure(code: str, detail: str) -> tuple[str, str]:
    """A lasting render failure: a stable code (``template_wrong_kind``) and
    a detail for people.

    Raises:
        InvalidValueError: a code that is not lower-case ``[a-z0-9_.-]``
            starting with a letter (at most 100), a blank or over-long detail.
    """
    if not _FAILURE_CODE.fullmatch(code):
        raise InvalidValueError(
            "code", "code must be lower-case letters, digits, '_', '.', '-'"
        )
    return code, bounded_text(detail, "detail", FAILURE_DETAIL_MAX)


def file_name_of(parts: Iterable[str], fmt: DocumentFormat) -> str:
    """A file name a person would keep: the parts joined by ``-``, each with
    runs of spaces and punctuation made one ``-``, letters of any script
    kept (``Łódź``), and the format's extension; at most
    :data:`FILE_NAME_MAX` characters."""
    normal = (unicodedata.normalize("NFC", p) for p in parts)
    words = (_NOT_IN_FILE_NAMES.sub("-", p) for p in normal)
    stem = "-".join(w.strip("-.") for w in words if w.strip("-."))
    stem = stem[: FILE_NAME_MAX - len(fmt.extension)].rstrip("-.")
    return f"{stem or 'document'}{fmt.extension}"


def report_file_name(
    standard_name: str,
    audit_type: str,
    organization_name: str,
    on: date,
    fmt: DocumentFormat,
) -> str:
    """``ISO-9001-stage-2-Nordic-Valves-2026-12-04.pdf``."""
    parts = (standard_name, audit_type.replace("_", "-"), organization_name)
    return file_name_of((*parts, on.isoformat()), fmt)


def certificate_file_name(
    number: str, revision: int, organization_name: str, fmt: DocumentFormat
) -> str:
    """``ACME-2026-000123-rev-2-Nordic-Valves.pdf``."""
    return file_name_of((number, f"rev-{revision}", organization_name), fmt)


def certificate_document_id(certificate_id: UUID, certificate_version: int) -> UUID:
    """The id of the document of one version of a certificate: the same for
    every request of it, so a redelivered request cannot make a second."""
    name = f"assurehub:certificate-document:{certificate_id}:{certificate_version}"
    return uuid5(NAMESPACE_URL, name)


def usable_layout(
    template: DocumentTemplate, kind: DocumentKind, number: int | None
) -> int:
    """The layout version of ``template`` a new ``kind`` document uses:
    ``number``, or the current one if ``None``.

    Raises:
        InvalidValueError: the template has no version ``number``.
        RuleViolationError: the template is retired
            (``document.template_retired``) or of another kind
            (``document.template_wrong_kind``).
    """
    if template.is_retired:
        raise RuleViolationError(
            "document.template_retired",
            f"document template {template.id} was retired on {template.retired_on}",
        )
    if template.kind is not kind:
        raise RuleViolationError(
            "document.template_wrong_kind",
            f"document template {template.id} lays out {template.kind.value} "
            f"documents, not {kind.value}",
        )
    if number is None:
        return template.latest_version
    if not any(layout.number == number for layout in template.layouts):
        raise InvalidValueError(
            "template_version",
            f"document template {template.id} has versions 1 to "
            f"{template.latest_version}, not {number}",
        )
    return number
