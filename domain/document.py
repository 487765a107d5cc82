"""A generated document: an audit report or a certificate, as DOCX or PDF.

Lifecycle::

    requested (pending) ──record_rendered──▶ ready
                        └─record_failed────▶ failed

A request names everything the file is built from, at exact versions: the
subject (the audit at ``audit_version``, or the certificate at
``certificate_version``), the document template's layout version (resolved,
never "latest") and the versions in :class:`SourceVersions`. A processor
renders it from those and records the outcome once: the same outcome again
(a redelivery) changes nothing, another one is refused, so one request yields
one file. A report requested before the audit was decided is a ``draft``.

A certificate's document has an id derived from the certificate and its
version (:func:`certificate_document_id`), so a repeated request of it finds
the first instead of making a second.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.audit import Audit
from domain.audit_values import AuditStatus, parse_enum
from domain.certificate import Certificate
from domain.document_template import DocumentKind, DocumentTemplate
from domain.document_values import (
    DocumentFormat,
    DocumentStatus,
    Rendering,
    SourceVersions,
    certificate_document_id,
    failure,
    usable_layout,
)
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta


class Document(Aggregate):
    """One requested document and, once rendered, its file's facts."""

    class Event(Aggregate.Event):
        """Base of Document events."""

        TYPE: ClassVar[str]
        meta: EventMeta

    class Requested(Event, Aggregate.Created):
        """A document was requested, naming the exact versions it is built
        from. ``audit_id`` is, for a certificate, the audit the certificate
        rests on (for scoping; ``audit_version`` is then null)."""

        TYPE = "document.requested"
        kind: str
        format: str
        template_id: UUID
        template_version: int
        organization_id: UUID
        organization_version: int
        audit_id: UUID
        audit_version: int | None
        certificate_id: UUID | None
        certificate_version: int | None
        standard_template_id: UUID | None
        standard_template_version: int | None
        tenant_version: int | None
        person_ids: tuple[str, ...]
        person_versions: tuple[int, ...]
        draft: bool

    class Rendered(Event):
        """The file was rendered and stored; ``sha256`` is its key in the
        content-addressed file store."""

        TYPE = "document.rendered"
        sha256: str
        size: int
        page_count: int | None
        media_type: str
        file_name: str

        def apply(self, aggregate: Document) -> None:
            aggregate.status = DocumentStatus.READY
            aggregate.rendering = Rendering(
                self.sha256, self.size, self.page_count, self.media_type, self.file_name
            )

    class RenderFailed(Event):
        """The document cannot be rendered, for a lasting reason."""

        TYPE = "document.render_failed"
        code: str
        detail: str

        def apply(self, aggregate: Document) -> None:
            aggregate.status = DocumentStatus.FAILED
            aggregate.failure = (self.code, self.detail)

    def __init__(
        self,
        meta: EventMeta,
        kind: str,
        format: str,
        template_id: UUID,
        template_version: int,
        organization_id: UUID,
        organization_version: int,
        audit_id: UUID,
        audit_version: int | None,
        certificate_id: UUID | None,
        certificate_version: int | None,
        standard_template_id: UUID | None,
        standard_template_version: int | None,
        tenant_version: int | None,
        person_ids: tuple[str, ...],
        person_versions: tuple[int, ...],
        draft: bool,
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.kind = DocumentKind(kind)
        self.format = DocumentFormat(format)
        self.template_id = template_id
        self.template_version = template_version
        self.organization_id = organization_id
        self.organization_version = organization_version
        self.audit_id = audit_id
        self.audit_version = audit_version
        self.certificate_id = certificate_id
        self.certificate_version = certificate_version
        self.standard_template_id = standard_template_id
        self.standard_template_version = standard_template_version
        self.tenant_version = tenant_version
        self.person_versions = dict(zip(person_ids, person_versions, strict=True))
        self.draft = draft
        self.status = DocumentStatus.PENDING
        self.rendering: Rendering | None = None
        self.failure: tuple[str, str] | None = None

    @classmethod
    def request_audit_report(
        cls,
        meta: EventMeta,
        audit: Audit,
        template: DocumentTemplate,
        template_version: int | None,
        fmt: str,
        sources: SourceVersions,
    ) -> Document:
        """Request a report of ``audit`` at its current version, laid out by
        ``template`` at ``template_version`` (its current one if ``None``).

        Raises:
            InvalidValueError: an unknown format; a template version the
                template does not have.
            RuleViolationError: the template is retired
                (``document.template_retired``) or lays out certificates
                (``document.template_wrong_kind``); the audit was cancelled
                (``document.audit_cancelled``).
        """
        document_format = parse_enum(DocumentFormat, fmt, "format")
        version = usable_layout(template, DocumentKind.AUDIT_REPORT, template_version)
        if audit.status is AuditStatus.CANCELLED:
            raise RuleViolationError(
                "document.audit_cancelled",
                f"audit {audit.id} was cancelled: it has no report",
            )
        return cls._create(
            cls.Requested,
            id=uuid4(),
            meta=meta,
            kind=DocumentKind.AUDIT_REPORT.value,
            format=document_format.value,
            template_id=template.id,
            template_version=version,
            organization_id=audit.organization_id,
            audit_id=audit.id,
            audit_version=audit.version,
            certificate_id=None,
            certificate_version=None,
            standard_template_id=audit.standard_template_id,
            draft=audit.decision is None,
            **_versions(sources),
        )

    @classmethod
    def request_certificate(
        cls,
        meta: EventMeta,
        certificate: Certificate,
        certificate_version: int,
        template: DocumentTemplate,
        sources: SourceVersions,
    ) -> Document:
        """Request the PDF of ``certificate`` at ``certificate_version``,
        laid out by ``template``'s current version; its id is
        :func:`certificate_document_id` of the two.

        Raises:
            InvalidValueError: the certificate has no such version.
            RuleViolationError: as for :meth:`request_audit_report` (the
                template must lay out certificates).
        """
        if not 1 <= certificate_version <= certificate.version:
            raise InvalidValueError(
                "certificate_version",
                f"certificate {certificate.id} has versions 1 to "
                f"{certificate.version}, not {certificate_version}",
            )
        version = usable_layout(template, DocumentKind.CERTIFICATE, None)
        return cls._create(
            cls.Requested,
            id=certificate_document_id(certificate.id, certificate_version),
            meta=meta,
            kind=DocumentKind.CERTIFICATE.value,
            format=DocumentFormat.PDF.value,
            template_id=template.id,
            template_version=version,
            organization_id=certificate.organization_id,
            audit_id=certificate.audit_id,
            audit_version=None,
            certificate_id=certificate.id,
            certificate_version=certificate_version,
            standard_template_id=None,
            draft=False,
            **_versions(sources),
        )

    def record_rendered(
        self,
        meta: EventMeta,
        sha256: str,
        size: int,
        page_count: int | None,
        file_name: str,
    ) -> None:
        """Record the stored file; the same file again changes nothing.

        Raises:
            InvalidValueError: as for :meth:`Rendering.of`.
            RuleViolationError: the document failed already
                (``document.render_failed``) or was rendered as another file
                (``document.rendered_differently``).
        """
        rendering = Rendering.of(sha256, size, page_count, file_name, self.format)
        if self.status is DocumentStatus.FAILED:
            raise RuleViolationError(
                "document.render_failed",
                f"document {self.id} failed ({self.failure_code}); it takes no file",
            )
        if self.rendering is not None:
            if self.rendering.sha256 != rendering.sha256:
                raise RuleViolationError(
                    "document.rendered_differently",
                    f"document {self.id} was rendered as {self.rendering.sha256}, "
                    f"not {rendering.sha256}",
                )
            return
        self.trigger_event(
            self.Rendered,
            meta=meta,
            sha256=rendering.sha256,
            size=rendering.size,
            page_count=rendering.page_count,
            media_type=rendering.media_type,
            file_name=rendering.file_name,
        )

    def record_failed(self, meta: EventMeta, code: str, detail: str) -> None:
        """Record a lasting failure; the same code again changes nothing.

        Raises:
            InvalidValueError: as for :func:`failure`.
            RuleViolationError: the document is ready already
                (``document.already_rendered``) or failed with another code
                (``document.failed_differently``).
        """
        code, detail = failure(code, detail)
        if self.rendering is not None:
            raise RuleViolationError(
                "document.already_rendered",
                f"document {self.id} is ready as {self.rendering.sha256}",
            )
        if self.failure_code is not None:
            if self.failure_code != code:
                raise RuleViolationError(
                    "document.failed_differently",
                    f"document {self.id} failed with {self.failure_code}, not {code}",
                )
            return
        self.trigger_event(self.RenderFailed, meta=meta, code=code, detail=detail)

    @property
    def failure_code(self) -> str | None:
        """The code of the lasting failure, if the document failed."""
        return None if self.failure is None else self.failure[0]


def _versions(sources: SourceVersions) -> dict[str, object]:
    return {
        "organization_version": sources.organization,
        "standard_template_version": sources.standard_template,
        "tenant_version": sources.tenant,
        "person_ids": tuple(actor for actor, _ in sources.people),
        "person_versions": tuple(version for _, version in sources.people),
    }


def people_named(audit: Audit) -> tuple[str, ...]:
    """The actor ids of everyone an audit report names, sorted: the team,
    the technical reviewer, the decision maker and each verifier of a
    corrective action."""
    named = set(audit.team.members())
    named |= {f.verified_by for f in audit.findings.values() if f.verified_by}
    if audit.technical_reviewer is not None:
        named.add(audit.technical_reviewer)
    if audit.decision is not None:
        named.add(audit.decision.decided_by)
    return tuple(sorted(named))
