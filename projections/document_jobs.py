"""The document processor's work: documents to render, and certificates
whose document is still to be requested.

A ``document.requested`` event adds a ``render`` job, removed when the
document's ``document.rendered`` or ``document.render_failed`` arrives; a
``certificate.issued`` event (a first issue or a revision) adds a
``certificate`` job, removed when the document of that certificate is
requested. The rows are a function of the events, so the list survives a
crash of the processor and is rebuilt like any projection. Besides them, the
processor keeps its own bookkeeping in each row (attempts, when it is due
again, the last error), which only delays a job and never removes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from projections.envelope import EventEnvelope
from projections.rows import Rows, Table, columns

REQUESTED = "assurehub.document.requested.v1"
FINISHED = frozenset(
    {"assurehub.document.rendered.v1", "assurehub.document.render_failed.v1"}
)
ISSUED = "assurehub.certificate.issued.v1"


class JobKind(StrEnum):
    """What the processor does for a job."""

    RENDER = "render"
    """Render the document ``subject_id`` and record the outcome."""
    CERTIFICATE = "certificate"
    """Request the document of certificate ``subject_id`` at
    ``subject_version``."""


@dataclass(frozen=True)
class DocumentJob:
    """One job, as the processor claimed it.

    Attributes:
        event_id: The event that caused the job; the commands the job leads
            to carry an idempotency key derived from it.
        correlation_id: The correlation id of that event, carried on.
        attempts: Claims so far, this one included.
    """

    tenant_id: str
    kind: JobKind
    subject_id: UUID
    subject_version: int
    event_id: str
    correlation_id: str
    attempts: int


JOBS = Table(
    "jobs",
    columns(
        "tenant_id text, kind text, subject_id uuid, subject_version integer, "
        "event_id text, correlation_id text, position bigint, attempts integer, "
        "due_at timestamptz?, last_error text?"
    ),
    key=("tenant_id", "kind", "subject_id"),
    indexes=(("position",),),
)


class DocumentJobsProjection:
    """Keeps the document processor's list of jobs."""

    name = "document_jobs"
    tables: tuple[Table, ...] = (JOBS,)

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Add a job for a request or an issued certificate; drop it once done."""
        subject = UUID(event.subject)
        if event.type == REQUESTED:
            store.insert(JOBS.name, _job(event, JobKind.RENDER, subject))
            certificate = event.data.get("certificate_id")
            if certificate is not None:
                key = (event.tenant_id, JobKind.CERTIFICATE.value, UUID(certificate))
                store.delete(JOBS.name, key)
        elif event.type in FINISHED:
            store.delete(JOBS.name, (event.tenant_id, JobKind.RENDER.value, subject))
        elif event.type == ISSUED:
            store.insert(JOBS.name, _job(event, JobKind.CERTIFICATE, subject))


def _job(event: EventEnvelope, kind: JobKind, subject: UUID) -> dict[str, object]:
    return {
        "tenant_id": event.tenant_id,
        "kind": kind.value,
        "subject_id": subject,
        "subject_version": event.aggregate_version,
        "event_id": event.id,
        "correlation_id": event.correlation_id,
        "position": event.position,
        "attempts": 0,
        "due_at": None,
        "last_error": None,
    }
