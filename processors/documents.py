"""The document processor: renders requested documents and requests each
issued certificate's own.

It works through the ``document_jobs`` list (kept from the events topic by
its own projection, in its own consumer group) one claimed job at a time:

- ``render``: load the document; unless it is already ready or failed,
  build it from the versions its request recorded, put the bytes in the
  content-addressed file store and record them (``record_rendered``). A
  lasting failure (:class:`~infra.document_builds.DocumentBuildError`) is
  recorded as ``record_failed`` with its code.
- ``certificate``: ``request_certificate_document`` for the certificate
  version issued, with the tenant's certificate template (a tenant that
  chose none gets no document: logged, not retried).

Every command carries an idempotency key derived from the event that caused
the job, and the document's own rules accept the same outcome twice, so a
job done again (a redelivery, a crash between storing and recording, a
second processor after a lease ran out) records one outcome. Postgres or
the file store being down is retried with backoff, the job held; any other
error puts the job back with a growing delay (never dropped).
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable

from tenacity import RetryCallState

from commands.context import CommandContext
from commands.documents import (
    DocumentService,
    RecordFailed,
    RecordRendered,
    RequestCertificateDocument,
)
from commands.errors import FileTooLargeError
from commands.ports import EventStore, FileStore, Idempotency
from domain.document import Document
from domain.document_values import FAILURE_DETAIL_MAX, DocumentStatus
from domain.errors import DomainError, InvalidValueError, RuleViolationError
from domain.principal import Principal
from infra.backoff import poll, until_stopped
from infra.document_builds import DocumentBuilder, DocumentBuildError
from infra.errors import DependencyUnavailableError
from infra.postgres.document_jobs import PostgresDocumentJobs
from projections.document_jobs import DocumentJob, JobKind

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:documents"
TRANSIENT = (DependencyUnavailableError, OSError)
MAX_ATTEMPTS = 10
"""Attempts after which a job that keeps failing for an unknown reason is
given up (the document recorded failed), so it cannot hold its place forever."""
"""Postgres or the file store cannot be reached or written: retried."""


class DocumentProcessor:
    """Does claimed document jobs.

    Args:
        jobs: Where jobs are claimed and finished.
        store: Loads documents.
        builder: Renders them from the event store.
        files: Where the bytes go.
        documents: The document commands.
        max_bytes: The largest file it stores.
    """

    def __init__(
        self,
        jobs: PostgresDocumentJobs,
        store: EventStore,
        builder: DocumentBuilder,
        files: FileStore,
        documents: DocumentService,
        max_bytes: int,
    ) -> None:
        self._jobs = jobs
        self._store = store
        self._builder = builder
        self._files = files
        self._documents = documents
        self._max_bytes = max_bytes

    def tick(
        self, stop: threading.Event, beat: Callable[[], None] = lambda: None
    ) -> bool:
        """Claim one due job and do it; whether there was one.

        A transient failure is retried with backoff (``beat`` between
        attempts: waiting is alive) until it passes or ``stop`` is set (then
        it is raised and the job waits for its lease).
        """
        job = self._jobs.claim()
        if job is None:
            return False
        retrying = until_stopped(stop, TRANSIENT, _log_wait(job, beat))
        try:
            retrying(self.process)(job)
        except TRANSIENT:
            raise
        except Exception as e:  # recorded on the job, which is retried later
            reason = f"{type(e).__name__}: {e}"
            if job.attempts >= MAX_ATTEMPTS:
                log.exception("document job given up", extra=_fields(job))
                self._give_up(job, reason)
                self._jobs.finish(job)
                return True
            log.exception("document job failed; retried later", extra=_fields(job))
            self._jobs.retry_later(job, reason)
            return True
        self._jobs.finish(job)
        return True

    def process(self, job: DocumentJob) -> None:
        """Do ``job`` once (raises what fails)."""
        if job.kind is JobKind.CERTIFICATE:
            self._request_certificate_document(job)
        else:
            self._render(job)

    def _render(self, job: DocumentJob) -> None:
        document = self._store.load(Document, job.subject_id)
        if document is None or document.tenant_id != job.tenant_id:
            log.error("requested document not found", extra=_fields(job))
            return
        if document.status is not DocumentStatus.PENDING:
            return
        try:
            built = self._builder.build(document)
        except DocumentBuildError as e:
            self._fail(job, e.code, e.detail)
            return
        rendered = built.rendered
        try:
            stored = self._files.put(io.BytesIO(rendered.content), self._max_bytes)
        except FileTooLargeError as e:
            self._fail(job, "document.too_large", str(e))
            return
        cmd = RecordRendered(
            document.id,
            stored.sha256,
            stored.size,
            rendered.page_count,
            built.file_name,
        )
        try:
            self._documents.record_rendered(
                _context(job, f"rendered:{stored.sha256}"), cmd
            )
        except InvalidValueError as e:  # e.g. a file name the document refuses
            self._fail(job, "document.unrecordable", str(e))
        except RuleViolationError as e:
            _refused(job, e)
        else:
            log.info("document rendered", extra={**_fields(job), "sha": stored.sha256})

    def _give_up(self, job: DocumentJob, reason: str) -> None:
        """After :data:`MAX_ATTEMPTS`: a render is recorded failed; a
        certificate's request is left to be asked for again by hand."""
        if job.kind is JobKind.CERTIFICATE:
            return
        self._fail(
            job,
            "document.abandoned",
            f"given up after {job.attempts} attempts; last: {reason}",
        )

    def _fail(self, job: DocumentJob, code: str, detail: str) -> None:
        detail = detail[:FAILURE_DETAIL_MAX]
        cmd = RecordFailed(job.subject_id, code, detail)
        try:
            self._documents.record_failed(_context(job, f"failed:{code}"), cmd)
        except RuleViolationError as e:
            _refused(job, e)
        else:
            log.warning("document failed", extra={**_fields(job), "code": code})

    def _request_certificate_document(self, job: DocumentJob) -> None:
        cmd = RequestCertificateDocument(job.subject_id, job.subject_version)
        try:
            self._documents.request_certificate_document(
                _context(job, "certificate-document"), cmd
            )
        except DomainError as e:
            log.warning(
                "certificate document not requested",
                extra={**_fields(job), "reason": str(e)},
            )


def _refused(job: DocumentJob, error: RuleViolationError) -> None:
    """Another outcome is recorded already. Renders are reproducible, so this
    means one was not: loud, and the job is done (the document has one)."""
    log.error("document outcome refused", extra={**_fields(job), "error": str(error)})


def _context(job: DocumentJob, fingerprint: str) -> CommandContext:
    """The processor acting in the job's tenant, with the idempotency key of
    the event that caused the job."""
    key = f"documents:{job.event_id}"
    return CommandContext(
        Principal.for_system(job.tenant_id, SYSTEM_ACTOR),
        job.correlation_id,
        idempotency=Idempotency(job.tenant_id, key, fingerprint),
    )


def _fields(job: DocumentJob) -> dict[str, object]:
    return {
        "tenant_id": job.tenant_id,
        "job": job.kind.value,
        "subject_id": str(job.subject_id),
        "event_id": job.event_id,
        "attempts": job.attempts,
    }


def _log_wait(
    job: DocumentJob, beat: Callable[[], None]
) -> Callable[[RetryCallState], None]:
    def log_wait(state: RetryCallState) -> None:
        beat()
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "document job waiting for its dependencies",
            extra={
                **_fields(job),
                "error": str(error),
                "retry_in_seconds": round(state.upcoming_sleep, 2),
            },
        )

    return log_wait


def run_documents(
    stop: threading.Event,
    processor: DocumentProcessor,
    interval_seconds: float,
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Do jobs until ``stop`` is set: the next at once after one, else after
    ``interval_seconds``."""
    poll(
        stop,
        lambda: processor.tick(stop, beat),
        interval_seconds,
        beat,
        log,
        "document jobs failed; retrying next interval",
    )
