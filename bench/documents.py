"""Document rendering: a certificate's PDF beside a one-page reportlab floor,
a large audit report in both formats, and the memory a render takes.

The records are made with the domain's own commands and stored in the
(test) database: a tenant, an organization with five sites, a standard
with ``clauses`` clauses, an audit assessing every one of them and raising
``findings`` findings (nonconformities answered and accepted), decided and
certified. Reports (PDF, DOCX) and the certificate's PDF are requested as
people and the processor would. Each is then timed two ways: rendering its
view alone (the renderer), and building it as the processor does (loading
every aggregate at its recorded version from Postgres, building the view,
rendering). The floor is reportlab's one-page "hello" PDF in the same
invariant mode, in the same run.

Memory is measured in fresh processes that load a pickled view and render it
once: the resident set size before rendering, its peak while rendering
(``VmHWM``, reset just before), and, in another such process, the peak of
Python allocations during it (tracemalloc, whose own bookkeeping would
inflate the first two).
"""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from reportlab.pdfgen.canvas import Canvas

from bench.common import percentile
from bench.document_records import Records, record_documents
from domain.document import Document
from infra.document_builds import DocumentBuilder
from infra.document_builds.certificate_views import certificate_view
from infra.document_builds.report_views import report_view
from infra.document_builds.sources import (
    load_certificate_sources,
    load_report_sources,
)
from infra.documents import (
    CertificateView,
    ReportView,
    render_certificate,
    render_report,
)
from infra.eventstore.store import LibraryEventStore, postgres_env
from infra.settings import Settings


@dataclass(frozen=True)
class Timing:
    """Milliseconds of ``n`` runs of one way of rendering."""

    name: str
    values: list[float]

    @property
    def n(self) -> int:
        return len(self.values)

    def p(self, q: float) -> float:
        return percentile(self.values, q)


@dataclass(frozen=True)
class Memory:
    """One fresh process rendering one view once (MiB): resident before, its
    peak while rendering, and the peak of Python allocations."""

    name: str
    rss_before: float
    rss_peak: float
    python_peak: float


@dataclass(frozen=True)
class Report:
    clauses: int
    findings: int
    record_seconds: float
    sizes: dict[str, int]
    pages: int
    timings: list[Timing]
    memory: list[Memory]


def hello_pdf() -> bytes:
    """The floor: one page saying hello, in reportlab's invariant mode."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    canvas.drawString(72, 720, "Hello")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def timed(name: str, runs: int, work: Callable[[], object]) -> Timing:
    work()  # warm: fonts, imports and caches load once per process
    values = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        values.append((time.perf_counter() - started) * 1000)
    return Timing(name, values)


def run(
    settings: Settings,
    clauses: int = 2000,
    findings: int = 200,
    certificate_runs: int = 200,
    report_runs: int = 5,
) -> Report:
    """Record the documents' sources in the database, then time and measure."""
    store = LibraryEventStore(postgres_env(settings))
    try:
        started = time.perf_counter()
        records = record_documents(store, clauses, findings)
        seconds = time.perf_counter() - started
        return _measure(
            store, settings, records, seconds, certificate_runs, report_runs
        )
    finally:
        store.close()


@dataclass(frozen=True)
class _Subjects:
    """What is timed: the documents as recorded and their views."""

    builder: DocumentBuilder
    documents: dict[str, Document]
    certificate: CertificateView
    report: ReportView


def _measure(
    store: LibraryEventStore,
    settings: Settings,
    records: Records,
    seconds: float,
    certificate_runs: int,
    report_runs: int,
) -> Report:
    documents = {name: _load(store, i) for name, i in records.documents.items()}
    sources = load_certificate_sources(store, documents["certificate"])
    subjects = _Subjects(
        DocumentBuilder(store, settings.public_base_url),
        documents,
        certificate_view(sources, settings.public_base_url),
        report_view(load_report_sources(store, documents["report.pdf"])),
    )
    timings = _timings(subjects, certificate_runs, report_runs)
    files = {
        "report.pdf": render_report(subjects.report, "pdf"),
        "report.docx": render_report(subjects.report, "docx"),
        "certificate.pdf": render_certificate(subjects.certificate, "pdf"),
    }
    memory = _memory({"report": subjects.report, "certificate": subjects.certificate})
    return Report(
        records.clauses,
        records.findings,
        seconds,
        {name: len(f.content) for name, f in files.items()},
        files["report.pdf"].page_count or 0,
        timings,
        memory,
    )


def _timings(s: _Subjects, certificate_runs: int, report_runs: int) -> list[Timing]:
    built = "build (load at versions + view + render)"
    timings = [
        timed("reportlab one-page hello PDF (floor)", certificate_runs, hello_pdf),
        timed(
            "certificate PDF: render its view",
            certificate_runs,
            lambda: render_certificate(s.certificate, "pdf"),
        ),
        timed(
            f"certificate PDF: {built}",
            certificate_runs,
            lambda: s.builder.build(s.documents["certificate"]),
        ),
    ]
    for fmt in ("pdf", "docx"):
        document = s.documents[f"report.{fmt}"]
        timings += [
            timed(
                f"report {fmt.upper()}: render its view",
                report_runs,
                lambda f=fmt: render_report(s.report, f),  # type: ignore[misc]
            ),
            timed(
                f"report {fmt.upper()}: {built}",
                report_runs,
                lambda d=document: s.builder.build(d),  # type: ignore[misc]
            ),
        ]
    return timings


def _load(store: LibraryEventStore, document_id: UUID) -> Document:
    document = store.load(Document, document_id)
    if document is None:
        raise LookupError(f"document {document_id} was not recorded")
    return document


_CHILD = """
import json, pickle, sys, tracemalloc
from infra.documents import (
    CertificateView,
    ReportView,
    render_certificate,
    render_report,
)

def mib(key):  # from /proc: ru_maxrss would count the parent's pages too
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024

with open(sys.argv[1], "rb") as stored:
    view = pickle.load(stored)
render = render_certificate if sys.argv[2] == "certificate" else render_report
before = mib("VmRSS")
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak (VmHWM) starts again from here
traced = sys.argv[4] == "trace"
if traced:
    tracemalloc.start()
render(view, sys.argv[3])
python_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else 0.0
print(json.dumps([before, mib("VmHWM"), python_peak]))
"""


def _child(path: Path, kind: str, fmt: str, how: str) -> list[float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), kind, fmt, how],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    found: list[float] = json.loads(out)
    return found


def _memory(views: dict[str, Any]) -> list[Memory]:
    """Each view rendered once in a fresh process (peak RSS, Python peak)."""
    found = []
    with tempfile.TemporaryDirectory() as folder:
        for kind, view in views.items():
            path = Path(folder) / f"{kind}.pickle"
            path.write_bytes(pickle.dumps(view))
            formats = ("pdf",) if kind == "certificate" else ("pdf", "docx")
            for fmt in formats:
                before, peak, _ = _child(path, kind, fmt, "rss")
                _, _, python_peak = _child(path, kind, fmt, "trace")
                found.append(Memory(f"{kind} {fmt.upper()}", before, peak, python_peak))
    return found
