"""Evidence: sniffed media types, content-addressed storage, upload rules."""

from __future__ import annotations

import io
import uuid
from datetime import date

import pytest

from commands.context import CommandContext
from commands.errors import FileTooLargeError
from commands.evidence import EvidenceService, UploadEvidence
from domain.audit import Audit
from domain.errors import NotFoundError, UnsupportedMediaTypeError
from domain.events import EventMeta
from domain.evidence import sniff_media_type
from domain.principal import Principal, Role
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.files import LocalFileStore

AUDITOR = Principal("tenant-ev", "alice", frozenset({Role.AUDITOR}))
OTHER = Principal("tenant-other", "bob", frozenset({Role.AUDITOR}))
PDF = b"%PDF-1.7\n" + b"x" * 5000


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PDF, "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (
            b"PK\x03\x04....[Content_Types].xml",
            "application/vnd.openxmlformats-officedocument",
        ),
        ("Kontrollbericht: Prüfung bestanden\n".encode(), "text/plain"),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),  # a Windows executable
        (b"PK\x03\x04 plain zip", None),
        (b"\x00\x01\x02binary", None),
    ],
)
def test_media_types_come_from_the_bytes(head, expected):
    assert sniff_media_type(head) == expected


@pytest.fixture
def store():
    return LibraryEventStore(in_memory_env())


@pytest.fixture
def service(store, tmp_path):
    return EvidenceService(store, LocalFileStore(tmp_path / "media"), max_bytes=10_000)


@pytest.fixture
def audit(store):
    meta = EventMeta("tenant-ev", "pm", "req", "req")
    planned = Audit.plan(
        meta,
        organization_id=uuid.uuid4(),
        site_ids=(uuid.uuid4(),),
        standard_template_id=uuid.uuid4(),
        standard_version=1,
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_type="stage_1",
        planned_start=date(2026, 12, 1),
        planned_end=date(2026, 12, 2),
        scope_statement="Design and manufacture of valves",
    )
    store.append(planned)
    return planned


def upload(service, audit_id, content, principal=AUDITOR, name="report.pdf"):
    return service.upload(
        CommandContext(principal, "req-1"),
        UploadEvidence(audit_id=audit_id, file_name=name, content=io.BytesIO(content)),
    )


def test_an_upload_is_recorded_with_its_hash_size_and_sniffed_type(
    service, audit, tmp_path
):
    accepted = upload(service, audit.id, PDF, name="minutes.txt")
    assert accepted.media_type == "application/pdf"  # the bytes, not the name
    assert accepted.size == len(PDF)
    stored = list((tmp_path / "media").rglob(accepted.sha256))
    assert len(stored) == 1
    assert stored[0].read_bytes() == PDF


def test_the_same_bytes_are_stored_once_but_each_upload_is_recorded(
    service, audit, tmp_path
):
    first = upload(service, audit.id, PDF)
    second = upload(service, audit.id, PDF)
    assert first.sha256 == second.sha256
    assert first.id != second.id
    files = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert len(files) == 1


def test_a_refused_type_records_nothing(service, audit, store):
    head = store.head()
    with pytest.raises(UnsupportedMediaTypeError):
        upload(service, audit.id, b"MZ\x90\x00" + b"\x00" * 100, name="x.pdf")
    assert store.head() == head


def test_a_file_over_the_limit_is_refused_and_not_kept(service, audit, tmp_path):
    with pytest.raises(FileTooLargeError):
        upload(service, audit.id, b"%PDF-" + b"x" * 20_000)
    assert not [p for p in (tmp_path / "media").rglob("*") if p.is_file()]


def test_another_tenants_audit_or_an_unknown_finding_is_not_found(service, audit):
    with pytest.raises(NotFoundError):
        upload(service, audit.id, PDF, principal=OTHER)
    with pytest.raises(NotFoundError):
        service.upload(
            CommandContext(AUDITOR, "req-2"),
            UploadEvidence(
                audit_id=audit.id,
                file_name="a.pdf",
                content=io.BytesIO(PDF),
                finding_id=uuid.uuid4(),
            ),
        )
