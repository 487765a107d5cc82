"""Evidence: a file attached to an audit or to one of its findings.

The bytes live in a content-addressed file store; the event records the
file's name, size, media type and SHA-256, so the evidence can be proven
unchanged later. The media type is decided by sniffing the bytes against an
allowlist, never by trusting what the client declared.
"""

from __future__ import annotations

import re
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValueError, UnsupportedMediaTypeError
from domain.events import EventMeta
from domain.values import bounded_text

FILE_NAME_MAX = 255
ALLOWED = "a PDF, PNG, JPEG, Office (docx, xlsx, pptx) or plain text file"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TEXT_SAMPLE = 4096


def sniff_media_type(head: bytes) -> str | None:
    """The allowlisted media type the first bytes of a file show, or None.

    Allowed: PDF, PNG, JPEG, Office Open XML (docx, xlsx, pptx: a ZIP with
    ``[Content_Types].xml``), and UTF-8 plain text without control bytes.
    """
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"PK\x03\x04") and b"[Content_Types].xml" in head:
        return "application/vnd.openxmlformats-officedocument"
    sample = head[:_TEXT_SAMPLE]
    if sample and not any(b < 9 or 13 < b < 32 for b in sample if b != 27):
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError as e:
            if e.start < len(sample) - 3:  # a character cut at the sample's end is fine
                return None
        return "text/plain"
    return None


class Evidence(Aggregate):
    """One uploaded file, attached to an audit (and possibly a finding)."""

    class Event(Aggregate.Event):
        """Base of Evidence events."""

        TYPE: ClassVar[str]
        meta: EventMeta

    class Uploaded(Event, Aggregate.Created):
        """A file was uploaded as evidence for an audit or a finding."""

        TYPE = "evidence.uploaded"
        audit_id: UUID
        finding_id: UUID | None
        file_name: str
        size: int
        media_type: str
        sha256: str

    def __init__(
        self,
        meta: EventMeta,
        audit_id: UUID,
        finding_id: UUID | None,
        file_name: str,
        size: int,
        media_type: str,
        sha256: str,
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.audit_id = audit_id
        self.finding_id = finding_id
        self.file_name = file_name
        self.size = size
        self.media_type = media_type
        self.sha256 = sha256

    @classmethod
    def upload(
        cls,
        meta: EventMeta,
        audit_id: UUID,
        finding_id: UUID | None,
        file_name: str,
        size: int,
        head: bytes,
        sha256: str,
    ) -> Evidence:
        """Record an uploaded file.

        Args:
            head: The file's first bytes, to sniff its media type.

        Raises:
            InvalidValueError: blank name, empty file or malformed digest.
            UnsupportedMediaTypeError: the bytes are not of an allowed type.
        """
        media_type = sniff_media_type(head)
        if media_type is None:
            raise UnsupportedMediaTypeError(file_name, ALLOWED)
        if size <= 0:
            raise InvalidValueError("file", "the file is empty")
        if not _SHA256.match(sha256):
            raise InvalidValueError("sha256", "sha256 must be 64 hex digits")
        return cls._create(
            cls.Uploaded,
            id=uuid4(),
            meta=meta,
            audit_id=audit_id,
            finding_id=finding_id,
            file_name=bounded_text(file_name, "file_name", FILE_NAME_MAX),
            size=size,
            media_type=media_type,
            sha256=sha256,
        )
