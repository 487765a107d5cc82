"""Commands on documents: asking for an audit report or a certificate's PDF,
and recording what the document processor made of the request.

People ask for audit reports; the document processor, a system caller
(:meth:`~domain.principal.Principal.for_system`), asks for certificate
documents and records each outcome. A request is validated in full before
anything is written: an audit or template the caller cannot see is a
:class:`~domain.errors.NotFoundError`, an unusable template or format a rule
or value error, and nothing is recorded.

Who may ask for a report: a tenant administrator or programme manager for
any audit they can see, an auditor only for an audit they lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from commands.audit_scope import may_see_audit
from commands.context import Accepted, CommandContext
from commands.document_sources import DocumentSources
from commands.errors import ConcurrentWriteError
from commands.handling import AggregateHandler
from commands.ports import EventStore, FileStore
from domain.access import Permission, authorize_system
from domain.audit import Audit
from domain.certificate import Certificate
from domain.document import Document
from domain.document_template import DocumentTemplate
from domain.document_values import certificate_document_id, sha256_hex
from domain.errors import InvalidValueError, NotFoundError, PermissionDeniedError
from domain.principal import Principal, Role
from domain.tenant_settings import (
    TenantSettings,
    certificate_template_of,
    settings_id,
)

_REQUEST_ANY_REPORT = frozenset({Role.TENANT_ADMIN, Role.PROGRAMME_MANAGER})


@dataclass(frozen=True)
class RequestAuditReport:
    """Ask for a report of the audit as it is now.

    Attributes:
        template_version: The layout version; ``None`` for the template's
            current one (the version used is recorded either way).
        format: ``pdf`` or ``docx``.
    """

    audit_id: UUID
    template_id: UUID
    template_version: int | None
    format: str


@dataclass(frozen=True)
class RequestCertificateDocument:
    """Ask for the PDF of one version of a certificate, laid out by the
    tenant's certificate template."""

    certificate_id: UUID
    certificate_version: int


@dataclass(frozen=True)
class RecordRendered:
    """The processor stored the document's file in the file store."""

    document_id: UUID
    sha256: str
    size: int
    page_count: int | None
    file_name: str


@dataclass(frozen=True)
class RecordFailed:
    """The document cannot be rendered, for a lasting reason."""

    document_id: UUID
    code: str
    detail: str


class DocumentService:
    """Application service whose methods are the document commands."""

    def __init__(self, store: EventStore, files: FileStore) -> None:
        self._store = store
        self._files = files
        self._handler = AggregateHandler(store)
        self._sources = DocumentSources(store)

    def request_audit_report(
        self, ctx: CommandContext, cmd: RequestAuditReport
    ) -> Accepted:
        """Record a request for a report of the audit at its current version.

        Raises:
            NotFoundError: the audit (or its organization or standard
                template) or the document template is not in the caller's
                tenant and scopes.
            PermissionDeniedError: an auditor who does not lead the audit.
            RuleViolationError: ``document.template_retired``,
                ``document.template_wrong_kind``, ``document.audit_cancelled``.
            InvalidValueError: an unknown format or template version.
        """

        def build() -> Document:
            audit = self._handler.load(ctx, Audit, cmd.audit_id)
            if not may_see_audit(ctx.principal, audit):
                raise NotFoundError("audit", cmd.audit_id)
            _check_may_request_report(ctx.principal, audit)
            template = self._handler.load(ctx, DocumentTemplate, cmd.template_id)
            return Document.request_audit_report(
                ctx.meta(),
                audit,
                template,
                cmd.template_version,
                cmd.format,
                self._sources.of_audit(ctx, audit),
            )

        return self._handler.create(ctx, Permission.DOCUMENT_REQUEST, build)

    def request_certificate_document(
        self, ctx: CommandContext, cmd: RequestCertificateDocument
    ) -> Accepted:
        """Record a request for the certificate's PDF (system callers only).

        The document's id is derived from the certificate and its version:
        when it was requested already, that document is answered and
        nothing is written.

        Raises:
            PermissionDeniedError: not a system caller.
            NotFoundError: the certificate, its organization or the tenant's
                certificate template is not in the caller's tenant.
            RuleViolationError: ``tenant_settings.no_certificate_template``,
                ``document.template_retired``,
                ``document.template_wrong_kind``.
            InvalidValueError: the certificate has no such version.
        """
        authorize_system(ctx.principal, "document:request_certificate")
        document_id = certificate_document_id(
            cmd.certificate_id, cmd.certificate_version
        )
        existing = self._existing(ctx, document_id)
        if existing is not None:
            return existing
        certificate = self._handler.load(ctx, Certificate, cmd.certificate_id)
        tenant = ctx.principal.tenant_id
        settings = self._store.load(TenantSettings, settings_id(tenant))
        template = self._handler.load(
            ctx, DocumentTemplate, certificate_template_of(settings, tenant)
        )
        document = Document.request_certificate(
            ctx.meta(),
            certificate,
            cmd.certificate_version,
            template,
            self._sources.of_certificate(ctx, certificate),
        )
        try:
            return self._handler.commit(ctx, document)[0]
        except ConcurrentWriteError:
            # A concurrent request of the same document won the race.
            raced = self._existing(ctx, document_id)
            if raced is None:  # pragma: no cover - the winner just wrote it
                raise
            return raced

    def record_rendered(self, ctx: CommandContext, cmd: RecordRendered) -> Accepted:
        """Record the file the processor stored (system callers only); the
        same file again writes nothing.

        Raises:
            PermissionDeniedError: not a system caller.
            NotFoundError: no such document in the tenant, or no such file in
                the file store.
            InvalidValueError: a malformed SHA-256; the stored file's size is
                not ``cmd.size``; a value :meth:`Document.record_rendered`
                refuses.
            RuleViolationError: ``document.render_failed``,
                ``document.rendered_differently``.
        """
        authorize_system(ctx.principal, "document:record_rendered")
        self._check_stored(sha256_hex(cmd.sha256), cmd.size)
        return self._handler.change_authorized(
            ctx,
            Document,
            cmd.document_id,
            None,
            lambda d: d.record_rendered(
                ctx.meta(), cmd.sha256, cmd.size, cmd.page_count, cmd.file_name
            ),
        )[0]

    def record_failed(self, ctx: CommandContext, cmd: RecordFailed) -> Accepted:
        """Record a lasting failure (system callers only); the same failure
        again writes nothing.

        Raises:
            PermissionDeniedError: not a system caller.
            NotFoundError: no such document in the tenant.
            InvalidValueError: a malformed code or detail.
            RuleViolationError: ``document.already_rendered``,
                ``document.failed_differently``.
        """
        authorize_system(ctx.principal, "document:record_failed")
        return self._handler.change_authorized(
            ctx,
            Document,
            cmd.document_id,
            None,
            lambda d: d.record_failed(ctx.meta(), cmd.code, cmd.detail),
        )[0]

    def _existing(self, ctx: CommandContext, document_id: UUID) -> Accepted | None:
        """The answer for a document already recorded in the caller's tenant."""
        document = self._store.load(Document, document_id)
        if document is None or document.tenant_id != ctx.principal.tenant_id:
            return None
        return Accepted(document.id, document.version, self._store.head())

    def _check_stored(self, sha256: str, size: int) -> None:
        """The file store holds ``sha256`` with ``size`` bytes."""
        try:
            with self._files.open(sha256) as stream:
                stored = stream.seek(0, 2)
        except FileNotFoundError as e:
            raise NotFoundError("stored file", sha256) from e
        if stored != size:
            raise InvalidValueError(
                "size", f"the stored file {sha256} has {stored} bytes, not {size}"
            )


def _check_may_request_report(principal: Principal, audit: Audit) -> None:
    """A manager may ask for any audit's report, an auditor only as its lead."""
    if principal.has_any_role(_REQUEST_ANY_REPORT):
        return
    if audit.team.lead_auditor != principal.actor_id:
        raise PermissionDeniedError(
            permission=f"{Permission.DOCUMENT_REQUEST.value} (only the lead "
            f"auditor of audit {audit.id} or a programme manager)",
            actor=principal.actor_id,
        )
