"""The records the document benchmark renders, made with the domain's own
commands: a large audit, decided and certified, and its documents requested.

Names and places use letters outside ASCII (Göteborg, Łódź, İstanbul,
Ærøskøbing, Zürich), so the renders embed and shape the whole font.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

from commands.context import CommandContext
from commands.documents import (
    DocumentService,
    RequestAuditReport,
    RequestCertificateDocument,
)
from domain.account import Account
from domain.audit import Audit
from domain.certificate import Certificate
from domain.document_template import SECTIONS, DocumentKind, DocumentTemplate
from domain.events import EventMeta
from domain.organization import Organization
from domain.principal import Principal, Role
from domain.standard_template import StandardTemplate
from domain.tenant import Tenant
from domain.tenant_settings import TenantSettings
from infra.eventstore.store import LibraryEventStore
from infra.files import LocalFileStore

CITIES = ("Göteborg", "Łódź", "İstanbul", "Ærøskøbing", "Zürich")
RESULTS = ("conforming", "nonconforming", "not_applicable", "conforming")
GRADES = ("minor_nonconformity", "observation", "opportunity_for_improvement")
START = date(2026, 11, 2)
BATCH = 500
_EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Records:
    """The documents requested, by ``report.pdf``, ``report.docx`` and
    ``certificate``."""

    documents: dict[str, UUID]
    clauses: int
    findings: int


def record_documents(store: LibraryEventStore, clauses: int, findings: int) -> Records:
    """Record the sources and request the documents; their ids."""
    tenant = f"bench-docs-{uuid.uuid4().hex[:8]}"
    meta = EventMeta(tenant, "setup", "bench", "bench")
    name = "Zeynep Yılmaz"  # noqa: RUF001 - Turkish dotless i, on purpose
    lead = Account.invite(
        meta, f"lead-{tenant}@example.test", name, ["auditor"], [], _EXPIRES
    )
    organization = Organization.register(meta, "Nordic Valves Łódź Sp. z o.o.", "PL")
    sites = tuple(
        organization.add_site(meta, f"Plant {c}", f"Main street 1, {c}") for c in CITIES
    )
    standard = _standard(meta, clauses)
    report = _template(meta, DocumentKind.AUDIT_REPORT, "Audit report")
    layout = _template(meta, DocumentKind.CERTIFICATE, "Certificate of registration")
    settings = TenantSettings.with_certificate_template(meta, layout)
    store.append(
        Tenant.create(meta, "Nordic Certification AB"),
        settings,
        lead,
        organization,
        standard,
        report,
        layout,
    )
    audit = _audit(
        store, meta, str(lead.id), organization.id, sites, standard, findings
    )
    documents = _request(store, tenant, audit, report.id)
    certificate = _certificate(meta, audit, organization.id, sites)
    store.append(certificate)
    system = CommandContext(Principal.for_system(tenant, "system:documents"), "bench")
    documents["certificate"] = (
        _service(store)
        .request_certificate_document(
            system, RequestCertificateDocument(certificate.id, 1)
        )
        .id
    )
    return Records(documents, clauses, findings)


def _service(store: LibraryEventStore) -> DocumentService:
    return DocumentService(store, LocalFileStore(Path(tempfile.gettempdir())))


def _request(
    store: LibraryEventStore, tenant: str, audit: Audit, template: UUID
) -> dict[str, UUID]:
    """A programme manager asks for the report in both formats."""
    manager = CommandContext(
        Principal(tenant, "mia", frozenset({Role.PROGRAMME_MANAGER})), "bench"
    )
    return {
        f"report.{fmt}": _service(store)
        .request_audit_report(
            manager, RequestAuditReport(audit.id, template, None, fmt)
        )
        .id
        for fmt in ("pdf", "docx")
    }


def _standard(meta: EventMeta, clauses: int) -> StandardTemplate:
    standard = StandardTemplate.draft(meta, "ISO 9001", "2015", "QMS")
    for n in range(clauses):
        standard.add_clause(
            meta,
            _clause(n),
            f"Requirement {n} on control of documented information",
            "The organization shall control documented information.",
        )
    standard.publish(meta, START - timedelta(days=60))
    return standard


def _clause(n: int) -> str:
    return f"{4 + n // 100}.{n % 100 + 1}"


def _template(meta: EventMeta, kind: DocumentKind, title: str) -> DocumentTemplate:
    return DocumentTemplate.create(
        meta,
        kind.value,
        title,
        "Nordic Certification AB\nAccredited by SWEDAC",
        SECTIONS[kind],
        "For Nordic Certification AB\nÅsa Öberg, certification manager",
    )


def _audit(
    store: LibraryEventStore,
    meta: EventMeta,
    lead: str,
    organization: UUID,
    sites: tuple[UUID, ...],
    standard: StandardTemplate,
    findings: int,
) -> Audit:
    """The audit, every clause assessed and ``findings`` raised and answered,
    decided; appended in batches as commands would."""
    audit = Audit.plan(
        meta,
        organization_id=organization,
        site_ids=sites,
        standard_template_id=standard.id,
        standard_version=1,
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_type="stage_2",
        planned_start=START,
        planned_end=START + timedelta(days=4),
        scope_statement="Design and manufacture of valves at " + ", ".join(CITIES),
    )
    audit.assign_team(meta, lead, ("søren", "jürgen"))
    audit.start(meta, START)
    published = standard.published_version(1)
    for n, clause in enumerate(published.clauses):
        city = CITIES[n % len(CITIES)]
        notes = None if n % 4 == 0 else f"Sampled five records at {city}. " * 3
        audit.assess_requirement(meta, clause.clause_id, RESULTS[n % 4], notes)
        _flush(store, audit)
    for n in range(findings):
        _finding(
            audit, meta, n, published.clauses[n % len(published.clauses)].clause_id
        )
        _flush(store, audit)
    _decide(audit, meta)
    store.append(audit)
    return audit


def _decide(audit: Audit, meta: EventMeta) -> None:
    audit.draft_report(meta, "The management system is effective, apart from findings.")
    audit.submit_for_review(meta, "rita")
    audit.approve_review(EventMeta(meta.tenant_id, "rita", "bench", "bench"))
    audit.record_decision(meta, "dmitri", "grant", "All requirements met.", START)


def _finding(audit: Audit, meta: EventMeta, n: int, clause: str) -> None:
    city = CITIES[n % len(CITIES)]
    grade = GRADES[n % len(GRADES)]
    finding = audit.raise_finding(
        meta,
        clause,
        grade,
        f"Calibration records of gauges at {city} were missing ({n}).",
        "Records of gauges G-1 to G-12 were not available.",
        START,
    )
    if grade == "minor_nonconformity":
        audit.submit_response(
            meta,
            finding,
            "Nobody owned the calibration schedule.",
            "The gauges were recalibrated.",
            "The QA manager owns the schedule and reviews it monthly.",
            START + timedelta(days=30),
        )
        audit.accept_response(meta, finding)


def _flush(store: LibraryEventStore, audit: Audit) -> None:
    if len(audit.pending_events) >= BATCH:
        store.append(audit)


def _certificate(
    meta: EventMeta, audit: Audit, organization: UUID, sites: tuple[UUID, ...]
) -> Certificate:
    return Certificate.issue(
        meta,
        number=f"NCAB-2026-{uuid.uuid4().int % 10**6:06d}",
        organization_id=organization,
        site_ids=sites,
        site_scopes=tuple(f"Valves made in {c}" for c in CITIES),
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_id=audit.id,
        decision_date=START,
        issue_date=START,
        effective_date=START + timedelta(days=1),
        expiry_date=START + timedelta(days=3 * 365),
    )
