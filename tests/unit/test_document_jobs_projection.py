"""The document processor's list of jobs, folded from the real domain's
events as the relay publishes them."""

from __future__ import annotations

import io

from commands.documents import RecordFailed, RecordRendered
from infra.streaming.public_events import to_envelope
from projections.document_jobs import JOBS, DocumentJobsProjection, JobKind
from projections.rows import MemoryRows


def jobs(memory_store) -> dict[tuple[str, object], dict]:
    """The jobs folded from every event in the store, by (kind, subject)."""
    rows = MemoryRows(DocumentJobsProjection.tables)
    projection = DocumentJobsProjection()
    for notification in memory_store.read_after(0, 10_000):
        event = memory_store.decode(notification)
        projection.apply(to_envelope(event, notification.id, "/test"), rows)
    return {(r["kind"], r["subject_id"]): r for r in rows.data[JOBS.name].values()}


def test_a_request_is_a_render_job_until_its_outcome_is_recorded(
    memory_store, document_service, media, document_scene
):
    first = document_scene.request_report(document_service)
    second = document_scene.request_report(document_service, "docx")
    pending = jobs(memory_store)
    assert set(pending) == {(JobKind.RENDER, first.id), (JobKind.RENDER, second.id)}
    job = pending[(JobKind.RENDER, first.id)]
    assert (job["tenant_id"], job["subject_version"], job["attempts"]) == (
        document_scene.tenant,
        1,
        0,
    )
    assert job["position"] == first.position

    stored = media.put(io.BytesIO(b"%PDF-1.7 report"), 1024)
    document_service.record_rendered(
        document_scene.system(),
        RecordRendered(first.id, stored.sha256, stored.size, 1, "report.pdf"),
    )
    document_service.record_failed(
        document_scene.system(), RecordFailed(second.id, "x.y", "Broken")
    )
    assert jobs(memory_store) == {}


def test_an_issued_certificate_is_a_job_until_its_document_is_requested(
    memory_store, document_service, document_scene
):
    document_scene.decide(memory_store)
    certificate = document_scene.issue(memory_store)
    [(kind, subject)] = jobs(memory_store)
    assert (kind, subject) == (JobKind.CERTIFICATE, certificate.id)
    requested = document_scene.request_certificate(document_service, certificate)
    assert set(jobs(memory_store)) == {(JobKind.RENDER, requested.id)}


def test_the_job_names_the_event_that_caused_it(
    memory_store, document_service, document_scene
):
    accepted = document_scene.request_report(document_service)
    [job] = jobs(memory_store).values()
    [requested] = [
        n for n in memory_store.read_after(0, 10_000) if n.originator_id == accepted.id
    ]
    envelope = to_envelope(memory_store.decode(requested), requested.id, "/test")
    assert job["event_id"] == envelope.id
    assert job["correlation_id"] == envelope.correlation_id
