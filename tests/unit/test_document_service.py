"""Document commands over the in-memory event store and a file store in a
temporary folder: requests are validated in full before anything is
written, and only the system caller records outcomes."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from commands.context import CommandContext
from commands.documents import (
    DocumentService,
    RecordFailed,
    RecordRendered,
    RequestAuditReport,
    RequestCertificateDocument,
)
from commands.ports import Idempotency
from domain.account import Account
from domain.audit import Audit
from domain.certificate import Certificate
from domain.document import Document
from domain.document_template import DocumentTemplate
from domain.document_values import DocumentStatus, certificate_document_id
from domain.errors import (
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
)
from domain.events import EventMeta
from domain.organization import Organization
from domain.principal import Principal, Role
from domain.standard_template import StandardTemplate
from domain.tenant import Tenant
from domain.tenant_settings import TenantSettings
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.files import LocalFileStore

TENANT = "tenant-a"
META = EventMeta(TENANT, "setup", "req-0", "req-0")
OTHER = EventMeta("tenant-b", "setup", "req-0", "req-0")
START = date(2026, 3, 2)
MANAGER = Principal(TENANT, "mia", frozenset({Role.PROGRAMME_MANAGER}))
SYSTEM = Principal.for_system(TENANT, "system:documents")
PDF = b"%PDF-1.7\n" + b"report " * 100


class Scene:
    """One tenant's organization, standard, templates and an audit under way
    led by an account (``lead``), with a person named by a plain actor id."""

    def __init__(self, store: LibraryEventStore, meta: EventMeta = META) -> None:
        expires = datetime(2030, 1, 1, tzinfo=UTC)
        self.lead = Account.invite(
            meta, "lena@example.test", "Lena", ["auditor"], [], expires
        )
        self.organization = Organization.register(meta, "Nordic Valves", "SE")
        site = self.organization.add_site(meta, "Göteborg", "Hamngatan 1")
        self.standard = StandardTemplate.draft(meta, "ISO 9001", "2015", "QMS")
        self.standard.add_clause(meta, "8", "Operation", "Planning")
        self.standard.publish(meta, START - timedelta(days=30))
        self.report = DocumentTemplate.create(
            meta, "audit_report", "Report", "ACME", ("summary",), "Sig"
        )
        self.report.revise(meta, "Report v2", "ACME", ("summary", "findings"), "Sig")
        self.certificate_layout = DocumentTemplate.create(
            meta, "certificate", "Certificate", "ACME", ("holder",), "Sig"
        )
        self.audit = Audit.plan(
            meta,
            organization_id=self.organization.id,
            site_ids=(site,),
            standard_template_id=self.standard.id,
            standard_version=1,
            standard_name="ISO 9001",
            standard_edition="2015",
            audit_type="stage_2",
            planned_start=START,
            planned_end=START + timedelta(days=2),
            scope_statement="Valves",
        )
        self.audit.assign_team(meta, str(self.lead.id), ("arun",))
        self.audit.start(meta, START)
        store.append(
            self.lead,
            self.organization,
            self.standard,
            self.report,
            self.certificate_layout,
            self.audit,
        )

    def request(self, **changes) -> RequestAuditReport:
        cmd = RequestAuditReport(self.audit.id, self.report.id, None, "pdf")
        return replace(cmd, **changes)


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
    return Scene(store)


def ctx(principal: Principal = MANAGER, key: str | None = None) -> CommandContext:
    idempotency = None if key is None else Idempotency(principal.tenant_id, key, "f")
    return CommandContext(principal, "req-1", idempotency=idempotency)


def requested(store, document_id) -> Document.Requested:
    document = store.load(Document, document_id)
    assert document is not None
    [event] = [
        e for e in store.app.events.get(document_id) if e.originator_version == 1
    ]
    assert isinstance(event, Document.Requested)
    return event


# -- requesting a report ------------------------------------------------------


def test_a_report_request_records_the_versions_of_everything_it_shows(
    service, store, scene
):
    tenant = Tenant.create(META, "ACME Certification")
    store.append(tenant)
    accepted = service.request_audit_report(ctx(), scene.request())
    event = requested(store, accepted.id)
    assert (event.template_id, event.template_version) == (scene.report.id, 2)
    assert (event.audit_id, event.audit_version) == (
        scene.audit.id,
        scene.audit.version,
    )
    assert event.organization_version == scene.organization.version
    assert (event.standard_template_id, event.standard_template_version) == (
        scene.standard.id,
        scene.standard.version,
    )
    assert event.tenant_version == tenant.version
    # "arun" has no account: printed as is; the lead's name is their account's.
    assert (list(event.person_ids), list(event.person_versions)) == (
        [str(scene.lead.id)],
        [scene.lead.version],
    )
    assert event.draft is True
    assert store.load(Document, accepted.id).status is DocumentStatus.PENDING


def test_a_report_of_an_older_layout_version_and_as_docx(service, store, scene):
    accepted = service.request_audit_report(
        ctx(), scene.request(template_version=1, format="docx")
    )
    event = requested(store, accepted.id)
    assert (event.template_version, event.format) == (1, "docx")
    assert event.tenant_version is None  # a tenant without a record


def test_the_lead_auditor_may_ask_for_the_report_and_another_auditor_may_not(
    service, store, scene
):
    lead = Principal(TENANT, str(scene.lead.id), frozenset({Role.AUDITOR}))
    assert service.request_audit_report(ctx(lead), scene.request()).version == 1
    head = store.head()
    arun = Principal(TENANT, "arun", frozenset({Role.AUDITOR}))
    client = Principal(TENANT, "cleo", frozenset({Role.CLIENT_USER}))
    for refused in (arun, client, SYSTEM):
        with pytest.raises(PermissionDeniedError):
            service.request_audit_report(ctx(refused), scene.request())
    assert store.head() == head


def test_audits_and_templates_the_caller_cannot_see_are_not_found(
    service, store, scene
):
    theirs = Scene(store, OTHER)
    head = store.head()
    scoped = replace(MANAGER, organization_ids=frozenset({uuid4()}))
    cases = [
        (ctx(), scene.request(audit_id=uuid4())),
        (ctx(), scene.request(audit_id=theirs.audit.id)),
        (ctx(scoped), scene.request()),
        (ctx(), scene.request(template_id=uuid4())),
        (ctx(), scene.request(template_id=theirs.report.id)),
    ]
    for context, cmd in cases:
        with pytest.raises(NotFoundError):
            service.request_audit_report(context, cmd)
    assert store.head() == head


def test_unusable_templates_and_formats_are_refused_and_nothing_written(
    service, store, scene
):
    retired = DocumentTemplate.create(META, "audit_report", "Old", "A", ("scope",), "S")
    retired.retire(META, START)
    store.append(retired)
    head = store.head()
    rules = {
        "document.template_retired": scene.request(template_id=retired.id),
        "document.template_wrong_kind": scene.request(
            template_id=scene.certificate_layout.id
        ),
    }
    for rule, cmd in rules.items():
        with pytest.raises(RuleViolationError) as raised:
            service.request_audit_report(ctx(), cmd)
        assert raised.value.rule == rule
    for field, cmd in (
        ("template_version", scene.request(template_version=3)),
        ("format", scene.request(format="odt")),
    ):
        with pytest.raises(InvalidValueError) as invalid:
            service.request_audit_report(ctx(), cmd)
        assert invalid.value.field == field
    assert store.head() == head


def test_a_retried_request_with_its_idempotency_key_makes_one_document(
    service, store, scene
):
    first = service.request_audit_report(ctx(key="k1"), scene.request())
    head = store.head()
    again = service.request_audit_report(ctx(key="k1"), scene.request())
    assert again == first
    assert store.head() == head


# -- a certificate's document -------------------------------------------------


def issue(store, scene) -> Certificate:
    certificate = Certificate.issue(
        META,
        number="ACME-2026-000001",
        organization_id=scene.organization.id,
        site_ids=scene.audit.site_ids,
        site_scopes=("Valves",),
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_id=scene.audit.id,
        decision_date=START,
        issue_date=START,
        effective_date=START,
        expiry_date=START + timedelta(days=365),
    )
    store.append(certificate)
    return certificate


def choose(store, scene) -> None:
    settings = TenantSettings.with_certificate_template(META, scene.certificate_layout)
    store.append(settings)


def test_the_processor_requests_a_certificate_s_pdf_once(service, store, scene):
    certificate = issue(store, scene)
    choose(store, scene)
    cmd = RequestCertificateDocument(certificate.id, 1)
    accepted = service.request_certificate_document(ctx(SYSTEM), cmd)
    assert accepted.id == certificate_document_id(certificate.id, 1)
    event = requested(store, accepted.id)
    assert (event.kind, event.format) == ("certificate", "pdf")
    assert (event.certificate_id, event.certificate_version) == (certificate.id, 1)
    assert event.template_id == scene.certificate_layout.id
    assert event.audit_id == scene.audit.id
    head = store.head()
    again = service.request_certificate_document(ctx(SYSTEM), cmd)
    assert (again.id, again.version) == (accepted.id, accepted.version)
    assert store.head() == head


def test_a_certificate_s_pdf_needs_the_system_caller_and_a_chosen_template(
    service, store, scene
):
    certificate = issue(store, scene)
    cmd = RequestCertificateDocument(certificate.id, 1)
    with pytest.raises(PermissionDeniedError):
        service.request_certificate_document(ctx(), cmd)
    with pytest.raises(RuleViolationError) as raised:
        service.request_certificate_document(ctx(SYSTEM), cmd)
    assert raised.value.rule == "tenant_settings.no_certificate_template"
    other_system = Principal.for_system("tenant-b", "system:documents")
    with pytest.raises(NotFoundError):
        service.request_certificate_document(ctx(other_system), cmd)


# -- recording the outcome ----------------------------------------------------


@pytest.fixture
def pending(service, scene):
    return service.request_audit_report(ctx(), scene.request()).id


def stored(files, content: bytes = PDF) -> str:
    return files.put(io.BytesIO(content), 1_000_000).sha256


def rendered(document_id, sha256: str, size: int = len(PDF)) -> RecordRendered:
    return RecordRendered(document_id, sha256, size, 2, "ISO-9001-Nordic-Valves.pdf")


def test_the_processor_records_the_stored_file_once(service, store, files, pending):
    sha = stored(files)
    accepted = service.record_rendered(ctx(SYSTEM), rendered(pending, sha))
    document = store.load(Document, pending)
    assert document.status is DocumentStatus.READY
    assert document.rendering.sha256 == sha
    assert accepted.version == 2
    head = store.head()
    again = service.record_rendered(ctx(SYSTEM), rendered(pending, sha))
    assert again.version == 2
    assert store.head() == head
    other = stored(files, PDF + b"changed")
    with pytest.raises(RuleViolationError) as raised:
        service.record_rendered(ctx(SYSTEM), rendered(pending, other, len(PDF) + 7))
    assert raised.value.rule == "document.rendered_differently"


def test_a_file_not_in_the_store_or_of_another_size_is_not_recorded(
    service, store, files, pending
):
    head = store.head()
    with pytest.raises(NotFoundError):
        service.record_rendered(ctx(SYSTEM), rendered(pending, "c" * 64))
    with pytest.raises(InvalidValueError) as raised:
        service.record_rendered(ctx(SYSTEM), rendered(pending, stored(files), 5))
    assert raised.value.field == "size"
    with pytest.raises(InvalidValueError):
        service.record_rendered(ctx(SYSTEM), rendered(pending, "../../etc/passwd"))
    assert store.head() == head


def test_only_the_system_caller_records_outcomes(service, store, files, pending):
    sha = stored(files)
    admin = Principal(TENANT, "ada", frozenset(Role) - {Role.PLATFORM_ADMIN})
    head = store.head()
    with pytest.raises(PermissionDeniedError):
        service.record_rendered(ctx(admin), rendered(pending, sha))
    with pytest.raises(PermissionDeniedError):
        service.record_failed(ctx(admin), RecordFailed(pending, "broken", "Broken"))
    with pytest.raises(NotFoundError):
        service.record_failed(
            ctx(Principal.for_system("tenant-b", "system:documents")),
            RecordFailed(pending, "broken", "Broken"),
        )
    assert store.head() == head


def test_a_lasting_failure_is_recorded_once(service, store, pending):
    failed = RecordFailed(pending, "section_without_data", "No findings to show")
    service.record_failed(ctx(SYSTEM), failed)
    head = store.head()
    service.record_failed(ctx(SYSTEM), failed)
    assert store.head() == head
    document = store.load(Document, pending)
    assert document.status is DocumentStatus.FAILED
    assert document.failure == ("section_without_data", "No findings to show")
