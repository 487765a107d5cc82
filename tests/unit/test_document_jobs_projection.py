"""The document processor's list of jobs, folded from the real domain's
events as the relay publishes them."""

from __future__ import annotations

import io

import pytest

from commands.documents import DocumentService, RecordFailed, RecordRendered
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.files import LocalFileStore
from infra.streaming.public_events import to_envelope
from projections.document_jobs import JOBS, DocumentJobsProjection, JobKind
from projections.rows import MemoryRows
from tests.document_scene import DocumentScene, new_tenant


@pytest.fixture
def store():
    return LibraryEventStore(in_memory_env())


@pytest.fixture
def files(tmp_path):
    return LocalFileStore(tmp_path / "media")


@pytest.fixture
def service(store, files):
    return DocumentService(store, files)


@pytest.fixture
def scene(store):
    scene = DocumentScene(new_tenant())
    scene.record(store)
    return scene


def jobs(store) -> dict[tuple[str, object], dict]:
    """The jobs folded from every event in the store, by (kind, subject)."""
    rows = MemoryRows(DocumentJobsProjection.tables)
    projection = DocumentJobsProjection()
    for notification in store.read_after(0, 10_000):
        event = store.decode(notification)
        projection.apply(to_envelope(event, notification.id, "/test"), rows)
    return {(r["kind"], r["subject_id"]): r for r in rows.data[JOBS.name].values()}


def test_a_request_is_a_render_job_until_its_outcome_is_recorded(
    store, service, files, scene
):
    first = scene.request_report(service)
    second = scene.request_report(service, "docx")
    pending = jobs(store)
    assert set(pending) == {(JobKind.RENDER, first.id), (JobKind.RENDER, second.id)}
    job = pending[(JobKind.RENDER, first.id)]
    assert (job["tenant_id"], job["subject_version"], job["attempts"]) == (
        scene.tenant,
        1,
        0,
    )
    assert job["position"] == first.position

    stored = files.put(io.BytesIO(b"%PDF-1.7 report"), 1024)
    service.record_rendered(
        scene.system(),
        RecordRendered(first.id, stored.sha256, stored.size, 1, "report.pdf"),
    )
    service.record_failed(scene.system(), RecordFailed(second.id, "x.y", "Broken"))
    assert jobs(store) == {}


def test_an_issued_certificate_is_a_job_until_its_document_is_requested(
    store, service, scene
):
    scene.decide(store)
    certificate = scene.issue(store)
    [(kind, subject)] = jobs(store)
    assert (kind, subject) == (JobKind.CERTIFICATE, certificate.id)
    requested = scene.request_certificate(service, certificate)
    assert set(jobs(store)) == {(JobKind.RENDER, requested.id)}


def test_the_job_names_the_event_that_caused_it(store, service, scene):
    accepted = scene.request_report(service)
    [job] = jobs(store).values()
    [requested] = [
        n for n in store.read_after(0, 10_000) if n.originator_id == accepted.id
    ]
    envelope = to_envelope(store.decode(requested), requested.id, "/test")
    assert job["event_id"] == envelope.id
    assert job["correlation_id"] == envelope.correlation_id
