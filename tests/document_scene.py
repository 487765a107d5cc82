"""One tenant's records from which documents are requested, for the document
build and processor tests (in memory or in Postgres).

Names and places use letters outside ASCII (Göteborg, Łódź, İstanbul,
Ærøskøbing, Zürich) so that a lost character shows in the files.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from commands.context import Accepted, CommandContext
from commands.documents import (
    DocumentService,
    RequestAuditReport,
    RequestCertificateDocument,
)
from commands.ports import EventStore
from domain.account import Account
from domain.audit import Audit
from domain.certificate import Certificate
from domain.document_template import DocumentTemplate
from domain.events import EventMeta
from domain.organization import Organization
from domain.principal import Principal, Role
from domain.standard_template import StandardTemplate
from domain.tenant import Tenant, tenant_aggregate_id
from domain.tenant_settings import TenantSettings

CITIES = ("Göteborg", "Łódź", "İstanbul", "Ærøskøbing", "Zürich")
CLAUSES = (("4", "Context of the organization"), ("8", "Operation"))
START = date(2026, 11, 30)
LEAD_NAME = "Zeynep Yılmaz"  # noqa: RUF001 - Turkish dotless i, on purpose


def new_tenant(label: str = "docs") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


@dataclass
class DocumentScene:
    """A tenant with its record, an organization with a site in each city, a
    published standard, a report and a certificate template (the tenant's
    choice), and an audit under way led by an account."""

    tenant: str
    meta: EventMeta = field(init=False)
    lead: Account = field(init=False)
    organization: Organization = field(init=False)
    sites: tuple[UUID, ...] = field(init=False)
    standard: StandardTemplate = field(init=False)
    report_template: DocumentTemplate = field(init=False)
    certificate_template: DocumentTemplate = field(init=False)
    audit: Audit = field(init=False)
    finding: UUID = field(init=False)

    def __post_init__(self) -> None:
        meta = self.meta = EventMeta(self.tenant, "setup", "scene", "scene")
        self.lead = Account.invite(
            meta,
            f"lead-{uuid.uuid4().hex[:8]}@example.test",
            LEAD_NAME,
            ["auditor"],
            [],
            datetime(2030, 1, 1, tzinfo=UTC),
        )
        self.organization = Organization.register(meta, "Nordic Valves Łódź", "PL")
        self.sites = tuple(
            self.organization.add_site(meta, f"Plant {c}", f"Main street 1, {c}")
            for c in CITIES
        )
        self.standard = StandardTemplate.draft(meta, "ISO 9001", "2015", "QMS")
        for clause, title in CLAUSES:
            self.standard.add_clause(meta, clause, title, f"{title} text")
        self.standard.publish(meta, START - timedelta(days=60))
        self.report_template = DocumentTemplate.create(
            meta,
            "audit_report",
            "Audit report",
            "Nordic Certification AB",
            ("summary", "scope", "team", "assessment", "findings", "conclusion"),
            "For Nordic Certification AB",
        )
        self.certificate_template = DocumentTemplate.create(
            meta,
            "certificate",
            "Certificate of registration",
            "Nordic Certification AB",
            ("holder", "scope", "sites", "validity", "signatures"),
            "For Nordic Certification AB\nÅsa Öberg",
        )
        self.audit = self._audit()

    def _audit(self) -> Audit:
        meta = self.meta
        audit = Audit.plan(
            meta,
            organization_id=self.organization.id,
            site_ids=self.sites,
            standard_template_id=self.standard.id,
            standard_version=1,
            standard_name="ISO 9001",
            standard_edition="2015",
            audit_type="stage_2",
            planned_start=START,
            planned_end=START + timedelta(days=2),
            scope_statement="Design and manufacture of valves in " + ", ".join(CITIES),
        )
        audit.assign_team(meta, str(self.lead.id), ("søren",))
        audit.start(meta, START)
        audit.assess_requirement(meta, "8", "conforming", "Sampled records in Zürich")
        audit.assess_requirement(meta, "4", "nonconforming")
        self.finding = audit.raise_finding(
            meta,
            "4",
            "minor_nonconformity",
            "Interested parties in İstanbul were not listed",
            "Register IP-1 lacks the İstanbul plant",
            START,
        )
        audit.submit_response(
            meta, self.finding, "Oversight", "Listed", "Quarterly review", START
        )
        audit.accept_response(meta, self.finding)
        return audit

    def record(self, store: EventStore) -> None:
        """Append everything, the tenant's record and settings included."""
        tenant = Tenant.create(self.meta, "Nordic Certification AB")
        assert tenant.id == tenant_aggregate_id(self.tenant)
        settings = TenantSettings.with_certificate_template(
            self.meta, self.certificate_template
        )
        store.append(
            tenant,
            settings,
            self.lead,
            self.organization,
            self.standard,
            self.report_template,
            self.certificate_template,
            self.audit,
        )

    def decide(self, store: EventStore) -> None:
        """Draft, review and grant the audit (appended)."""
        meta = self.meta
        self.audit.draft_report(meta, "Effective, apart from one minor finding.")
        self.audit.submit_for_review(meta, "rita")
        self.audit.approve_review(EventMeta(self.tenant, "rita", "scene", "scene"))
        self.audit.record_decision(
            meta, "dmitri", "grant", "All requirements met.", START + timedelta(4)
        )
        store.append(self.audit)

    def issue(self, store: EventStore) -> Certificate:
        """Issue a certificate on the decided audit (appended)."""
        decided = START + timedelta(days=4)
        certificate = Certificate.issue(
            self.meta,
            number=f"NCAB-2026-{uuid.uuid4().int % 10**6:06d}",
            organization_id=self.organization.id,
            site_ids=self.sites,
            site_scopes=tuple(f"Valves made in {c}" for c in CITIES),
            standard_name="ISO 9001",
            standard_edition="2015",
            audit_id=self.audit.id,
            decision_date=decided,
            issue_date=decided,
            effective_date=decided + timedelta(days=1),
            expiry_date=decided + timedelta(days=3 * 365),
        )
        store.append(certificate)
        return certificate

    def manager(self) -> CommandContext:
        principal = Principal(self.tenant, "mia", frozenset({Role.PROGRAMME_MANAGER}))
        return CommandContext(principal, f"req-{uuid.uuid4().hex[:8]}")

    def system(self) -> CommandContext:
        principal = Principal.for_system(self.tenant, "system:documents")
        return CommandContext(principal, f"sys-{uuid.uuid4().hex[:8]}")

    def request_report(
        self, service: DocumentService, fmt: str = "pdf", version: int | None = None
    ) -> Accepted:
        cmd = RequestAuditReport(self.audit.id, self.report_template.id, version, fmt)
        return service.request_audit_report(self.manager(), cmd)

    def request_certificate(
        self, service: DocumentService, certificate: Certificate
    ) -> Accepted:
        cmd = RequestCertificateDocument(certificate.id, 1)
        return service.request_certificate_document(self.system(), cmd)
