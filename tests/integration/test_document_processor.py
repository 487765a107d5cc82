"""The document processor on real Postgres, Kafka and files: each request
yields one document, whatever is killed, repeated or run twice.

Requests are recorded with the domain's own commands through the session's
event store; the relay and the ``document_jobs`` projection bring them to
the job list, and each test drives processors by calling ``tick``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from commands.documents import DocumentService
from domain.audit import Audit
from domain.document import Document
from domain.document_values import DocumentStatus, certificate_document_id
from infra.bootstrap import Container
from infra.document_builds import BuiltDocument, DocumentBuilder
from infra.files import LocalFileStore
from infra.postgres.document_jobs import PostgresDocumentJobs
from processors.documents import MAX_ATTEMPTS, DocumentProcessor
from processors.workers import document_processor
from tests.document_scene import DocumentScene, new_tenant

WAIT_SECONDS = 60
ROOT = Path(__file__).resolve().parents[2]


class Killed(BaseException):
    """Stands for the process being killed: nothing catches it."""


@dataclass
class CountingBuilder:
    """A builder that counts what it renders, by document id."""

    inner: DocumentBuilder
    built: Counter[UUID] = field(default_factory=Counter)

    def build(self, document: Document) -> BuiltDocument:
        self.built[document.id] += 1
        return self.inner.build(document)


class DyingService:
    """The document commands, killed once on the way to ``record_rendered``."""

    def __init__(self, inner: DocumentService) -> None:
        self._inner = inner
        self.killed = False

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def record_rendered(self, ctx, cmd):
        if not self.killed:
            self.killed = True
            raise Killed
        return self._inner.record_rendered(ctx, cmd)


def processor(container: Container, **parts) -> DocumentProcessor:
    lease = parts.pop("lease_seconds", 300.0)
    args = {
        "jobs": PostgresDocumentJobs(container.database, lease_seconds=lease),
        "store": container.event_store,
        "builder": container.document_builder,
        "files": container.files,
        "documents": container.services.documents,
        "max_bytes": container.settings.upload_max_bytes,
    }
    return DocumentProcessor(**{**args, **parts})


def load(container: Container, document_id: UUID) -> Document:
    document = container.event_store.load(Document, document_id)
    assert document is not None
    return document


def drive(
    container: Container, done: Callable[[], bool], *processors: DocumentProcessor
) -> None:
    """Tick ``processors`` in turn until ``done()`` (or fail after a while)."""
    stop = threading.Event()
    deadline = time.monotonic() + WAIT_SECONDS
    while not done():
        assert time.monotonic() < deadline, "the processor did not finish in time"
        if not any([p.tick(stop) for p in processors]):
            time.sleep(0.1)


def settled(container: Container, *ids: UUID) -> Callable[[], bool]:
    return lambda: all(
        load(container, i).status is not DocumentStatus.PENDING for i in ids
    )


def events_of(container: Container, document_id: UUID) -> list[str]:
    return [type(e).__name__ for e in container.event_store.app.events.get(document_id)]


def job_row(container: Container, subject: UUID) -> tuple | None:
    with container.database.connection() as conn:
        return conn.execute(
            "SELECT attempts, last_error FROM rm_document_jobs.jobs"
            " WHERE subject_id = %s",
            (subject,),
        ).fetchone()


@pytest.fixture
def scene(document_jobs: Container) -> DocumentScene:
    scene = DocumentScene(new_tenant("proc"))
    scene.record(document_jobs.event_store)
    return scene


def test_a_requested_report_is_rendered_stored_and_recorded_once(document_jobs, scene):
    container = document_jobs
    accepted = scene.request_report(container.services.documents)
    drive(container, settled(container, accepted.id), document_processor(container))

    document = load(container, accepted.id)
    assert document.status is DocumentStatus.READY
    assert events_of(container, accepted.id) == ["Requested", "Rendered"]
    expected = container.document_builder.build(document)
    assert document.rendering is not None
    assert document.rendering.sha256 == expected.rendered.sha256
    assert document.rendering.file_name == expected.file_name
    with container.files.open(document.rendering.sha256) as stored:
        assert stored.read() == expected.rendered.content
    assert job_row(container, accepted.id) is None


def test_a_job_done_again_records_nothing_more(document_jobs, scene):
    container = document_jobs
    accepted = scene.request_report(container.services.documents)
    jobs = PostgresDocumentJobs(container.database, lease_seconds=0)
    drive(container, lambda: job_row(container, accepted.id) is not None)
    claimed = None
    while claimed is None or claimed.subject_id != accepted.id:
        claimed = jobs.claim()
    once = processor(container)
    once.process(claimed)
    version = load(container, accepted.id).version
    once.process(claimed)  # the same job again: a redelivery, a second instance
    processor(container).process(claimed)
    assert load(container, accepted.id).version == version == 2
    assert events_of(container, accepted.id) == ["Requested", "Rendered"]


def test_a_processor_killed_between_storing_and_recording_leaves_one_document(
    document_jobs, scene
):
    container = document_jobs
    accepted = scene.request_report(container.services.documents)
    dying = DyingService(container.services.documents)
    first = processor(container, documents=dying, lease_seconds=1.0)
    with pytest.raises(Killed):
        drive(container, lambda: dying.killed, first)
    assert load(container, accepted.id).status is DocumentStatus.PENDING
    assert job_row(container, accepted.id) == (1, None)  # claimed once, held

    second = processor(container)
    drive(container, settled(container, accepted.id), second)
    document = load(container, accepted.id)
    assert events_of(container, accepted.id) == ["Requested", "Rendered"]
    assert document.rendering is not None
    with container.files.open(document.rendering.sha256) as stored:
        assert (
            stored.read() == container.document_builder.build(document).rendered.content
        )


SLOW_PROCESSOR = """
import sys, time
from uuid import UUID
from infra.bootstrap import bootstrap
from infra.settings import load_settings
from processors.documents import MAX_ATTEMPTS, DocumentProcessor
from threading import Event

container = bootstrap(load_settings())
target = UUID(sys.argv[1])

class Slow:
    def build(self, document):
        if document.id == target:
            print("rendering", flush=True)
            time.sleep(600)  # killed long before this ends
        return container.document_builder.build(document)

processor = DocumentProcessor(
    container.document_jobs(lease_seconds=1.0), container.event_store, Slow(),
    container.files, container.services.documents, 10**8,
)
stop = Event()
while True:
    processor.tick(stop) or time.sleep(0.1)
"""


def test_a_processor_process_killed_mid_render_leaves_one_document(
    document_jobs, scene, migrated
):
    container = document_jobs
    accepted = scene.request_report(container.services.documents)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ASSUREHUB_ENV": "development",
        "ASSUREHUB_DATABASE_URL": str(migrated.database_url),
        "ASSUREHUB_MEDIA_DIR": str(migrated.media_dir.resolve()),
    }
    with subprocess.Popen(
        [sys.executable, "-c", SLOW_PROCESSOR, str(accepted.id)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "rendering"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
    assert load(container, accepted.id).status is DocumentStatus.PENDING
    assert job_row(container, accepted.id) == (1, None)

    drive(container, settled(container, accepted.id), processor(container))
    assert events_of(container, accepted.id) == ["Requested", "Rendered"]


def test_two_processors_at_once_render_each_document_once(document_jobs, scene):
    container = document_jobs
    service = container.services.documents
    ids = [scene.request_report(service, fmt).id for fmt in ("pdf", "docx") * 3]
    builders = [CountingBuilder(container.document_builder) for _ in range(2)]
    processors = [processor(container, builder=b) for b in builders]
    errors: list[BaseException] = []

    def run(p: DocumentProcessor) -> None:
        try:
            drive(container, settled(container, *ids), p)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(p,)) for p in processors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT_SECONDS + 10)
    assert not errors
    built = builders[0].built + builders[1].built
    assert {i: built[i] for i in ids} == dict.fromkeys(ids, 1)
    for i in ids:
        assert events_of(container, i) == ["Requested", "Rendered"]


def test_a_document_that_cannot_be_rendered_fails_with_its_reason(document_jobs, scene):
    container = document_jobs
    # Text a document cannot carry (a bell character) in an event recorded
    # before the domain refused such text (old events are never rewritten):
    # the same request would fail the same way again.
    scene.audit.trigger_event(
        Audit.FindingRaised,
        meta=scene.meta,
        finding_id=uuid4(),
        clause_id="8",
        grade="observation",
        description="Alarm \x07 rang",
        objective_evidence="Heard",
        evidence_ids=(),
        raised_on=date(2026, 12, 1),
    )
    container.event_store.append(scene.audit)
    accepted = scene.request_report(container.services.documents)
    drive(container, settled(container, accepted.id), document_processor(container))
    document = load(container, accepted.id)
    assert document.status is DocumentStatus.FAILED
    assert document.failure is not None
    code, detail = document.failure
    assert code == "document.unrenderable"
    assert "U+0007" in detail
    assert events_of(container, accepted.id) == ["Requested", "RenderFailed"]


def test_the_file_store_down_is_waited_for_and_never_recorded_as_failure(
    document_jobs, scene, tmp_path: Path
):
    container = document_jobs
    blocked = tmp_path / "media"
    blocked.write_text("a file where the store's folder should be")
    files = LocalFileStore(blocked / "store")
    down = processor(
        container, files=files, documents=DocumentService(container.event_store, files)
    )
    accepted = scene.request_report(container.services.documents)
    stop = threading.Event()
    finished = threading.Event()
    beats: list[float] = []

    def work() -> None:
        drive(container, lambda: job_row(container, accepted.id) is not None)
        while not stop.is_set() and not settled(container, accepted.id)():
            down.tick(stop, lambda: beats.append(time.monotonic()))
        finished.set()

    thread = threading.Thread(target=work)
    thread.start()
    try:
        time.sleep(3)
        assert load(container, accepted.id).status is DocumentStatus.PENDING
        assert not finished.is_set()
        assert len(beats) >= 2  # waiting with backoff, and saying it is alive
        blocked.unlink()  # the file store comes back
        assert finished.wait(WAIT_SECONDS)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert load(container, accepted.id).status is DocumentStatus.READY
    assert (blocked / "store").is_dir()


def test_an_issued_certificate_gets_its_document_rendered(document_jobs, scene):
    container = document_jobs
    scene.decide(container.event_store)
    certificate = scene.issue(container.event_store)
    document_id = certificate_document_id(certificate.id, 1)

    def rendered() -> bool:
        found = container.event_store.load(Document, document_id)
        return found is not None and found.status is DocumentStatus.READY

    drive(container, rendered, document_processor(container))
    document = load(container, document_id)
    assert (document.kind.value, document.format.value) == ("certificate", "pdf")
    assert document.rendering is not None
    assert document.rendering.page_count == 1
    assert job_row(container, certificate.id) is None


def test_a_tenant_without_a_certificate_template_gets_no_document(document_jobs):
    container = document_jobs
    scene = DocumentScene(new_tenant("bare"))
    store = container.event_store
    store.append(scene.organization, scene.standard, scene.audit)
    scene.decide(store)
    certificate = scene.issue(store)
    drive(container, lambda: job_row(container, certificate.id) is not None)
    drive(
        container,
        lambda: job_row(container, certificate.id) is None,
        document_processor(container),
    )
    assert store.load(Document, certificate_document_id(certificate.id, 1)) is None


class Unforeseen:
    """A builder that fails, every time, for a reason nobody foresaw."""

    def build(self, document: Document) -> BuiltDocument:
        raise RuntimeError("unforeseen")


def test_a_job_failing_for_an_unknown_reason_is_given_up_after_its_attempts(
    document_jobs, scene
):
    container = document_jobs
    jobs = PostgresDocumentJobs(
        container.database, retry_base_seconds=0.01, retry_max_seconds=0.01
    )
    broken = processor(container, jobs=jobs, builder=Unforeseen())
    accepted = scene.request_report(container.services.documents)
    drive(container, settled(container, accepted.id), broken)
    document = load(container, accepted.id)
    assert document.status is DocumentStatus.FAILED
    assert document.failure is not None
    code, detail = document.failure
    assert code == "document.abandoned"
    assert f"after {MAX_ATTEMPTS} attempts" in detail
    assert "unforeseen" in detail
    assert job_row(container, accepted.id) is None


def test_a_document_larger_than_the_file_store_takes_fails_as_too_large(
    document_jobs, scene
):
    container = document_jobs
    accepted = scene.request_report(container.services.documents)
    drive(
        container,
        settled(container, accepted.id),
        processor(container, max_bytes=100),
    )
    document = load(container, accepted.id)
    assert document.status is DocumentStatus.FAILED
    assert document.failure is not None
    assert document.failure[0] == "document.too_large"
    assert job_row(container, accepted.id) is None
