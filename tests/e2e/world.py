"""One organization with a record of every kind, for tests that call every
route: its ids, names and numbers, and a ghost twin whose ids exist nowhere.

The organization, its sites, a published standard template, two document
templates and two audits are recorded with the domain's own commands through
the running container's event store (as the other e2e tests do); the
certificate is issued, the evidence uploaded, the decided audit closed, the
certificate template chosen and the audit report asked for over HTTP, as a
client would. An invited account and an API token are recorded with the
container's own command services, as a tenant administrator would make them;
their events also give the tenant's security trail its rows. The document
processor is played by its commands: the certificate's document is requested
and both documents are stored and recorded rendered.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import httpx

from commands.context import Accepted, CommandContext
from commands.documents import RecordRendered, RequestCertificateDocument
from commands.identity.accounts import Invite
from commands.identity.api_tokens import IssueApiToken
from commands.webhooks import Subscribe
from domain.audit import Audit
from domain.document_template import DocumentTemplate
from domain.events import EventMeta
from domain.organization import Organization
from domain.principal import Principal, Role
from domain.standard_template import StandardTemplate
from infra.postgres.webhooks import enqueue
from infra.webhooks.fanout import owed
from projections.envelope import EventEnvelope
from tests.e2e.conftest import as_user

CLAUSE = "8"
PDF = b"%PDF-1.7\n" + b"matrix evidence " * 64
LEAD = "alice"
"""Lead auditor of the world's audits: the actor the permission matrix sends
requests as, so that an auditor may ask for the audit's report."""


def utc_today() -> date:
    return datetime.now(UTC).date()


def new_tenant(label: str) -> str:
    return f"e2e-{label}-{uuid.uuid4().hex[:10]}"


def unique_email(label: str) -> str:
    """An e-mail address no other test uses (no ``_`` or ``%``, which a
    listing's free-text filter must match literally)."""
    return f"{label}.{uuid.uuid4().hex[:12]}@example.test"


@dataclass(frozen=True)
class World:
    """The ids of one organization's records, all in ``tenant``.

    ``decided_audit`` is a clean audit walked to a grant, on which
    ``certificate`` was issued, then closed; ``document`` is its report
    (laid out by ``report_template``) and ``certificate_document`` the
    certificate's PDF (laid out by ``document_template``, the tenant's
    certificate template), both ready. ``audit`` is under way, with
    ``finding`` (a minor nonconformity whose response is submitted) and
    ``evidence`` uploaded for that finding; ``LEAD`` leads both audits.
    ``account`` is a person invited (not yet active, so without a password)
    with ``account_email``; ``api_token`` is an API token whose secret, shown
    once, is ``api_token_secret``. ``webhook_subscription`` is a webhook
    subscription owed ``webhook_delivery`` (an event of ``organization``).
    """

    tenant: str
    organization: UUID
    organization_name: str
    sites: tuple[UUID, ...]
    standard_template: UUID
    document_template: UUID
    report_template: UUID
    decided_audit: UUID
    audit: UUID
    finding: UUID
    evidence: UUID
    certificate: UUID
    certificate_number: str
    verification_code: str
    document: UUID
    certificate_document: UUID
    account: UUID
    account_email: str
    api_token: UUID
    api_token_secret: str
    webhook_subscription: UUID
    webhook_delivery: UUID
    position: int

    def markers(self) -> dict[str, str]:
        """Every id, name and number of the world as text, by what it is."""
        return {
            "tenant": self.tenant,
            "organization": str(self.organization),
            "organization_name": self.organization_name,
            **{f"site {i}": str(s) for i, s in enumerate(self.sites)},
            "standard_template": str(self.standard_template),
            "document_template": str(self.document_template),
            "report_template": str(self.report_template),
            "decided_audit": str(self.decided_audit),
            "audit": str(self.audit),
            "finding": str(self.finding),
            "evidence": str(self.evidence),
            "certificate": str(self.certificate),
            "certificate_number": self.certificate_number,
            "verification_code": self.verification_code,
            "document": str(self.document),
            "certificate_document": str(self.certificate_document),
            "account": str(self.account),
            "account_email": self.account_email,
            "api_token": str(self.api_token),
            "api_token_secret": self.api_token_secret,
            "webhook_subscription": str(self.webhook_subscription),
            "webhook_delivery": str(self.webhook_delivery),
        }

    def leaked(self, text: str) -> list[str]:
        """The markers of this world that ``text`` contains."""
        return [name for name, value in self.markers().items() if value in text]

    def ghost(self) -> World:
        """The same tenant and shape, with ids, names and numbers that exist
        nowhere: what a caller gets for them is what "not found" looks like."""
        return replace(
            self,
            organization=uuid.uuid4(),
            organization_name=f"Ghost {uuid.uuid4().hex[:8]}",
            sites=tuple(uuid.uuid4() for _ in self.sites),
            standard_template=uuid.uuid4(),
            document_template=uuid.uuid4(),
            report_template=uuid.uuid4(),
            decided_audit=uuid.uuid4(),
            audit=uuid.uuid4(),
            finding=uuid.uuid4(),
            evidence=uuid.uuid4(),
            certificate=uuid.uuid4(),
            certificate_number="GHOST-2026-000001",
            verification_code="GHST-GHST-GHST-GHST-0000",
            document=uuid.uuid4(),
            certificate_document=uuid.uuid4(),
            account=uuid.uuid4(),
            account_email=unique_email("ghost"),
            api_token=uuid.uuid4(),
            api_token_secret=f"ah_live_ghost{uuid.uuid4().hex}",
            webhook_subscription=uuid.uuid4(),
            webhook_delivery=uuid.uuid4(),
        )


def world_ids(world: World, template: UUID) -> dict[str, object]:
    """``world``'s value for each path parameter the API has (``template``
    for ``template_id``, which names a standard or a document template)."""
    return {
        "organization_id": world.organization,
        "site_id": world.sites[0],
        "template_id": template,
        "clause_id": CLAUSE,
        "audit_id": world.audit,
        "finding_id": world.finding,
        "evidence_id": world.evidence,
        "certificate_id": world.certificate,
        "document_id": world.document,
        "account_id": world.account,
        "token_id": world.api_token,
        "subscription_id": world.webhook_subscription,
        "delivery_id": world.webhook_delivery,
    }


def path_values(path: str, world: World) -> dict[str, str]:
    """``world``'s id for each parameter of ``path``."""
    template = (
        world.document_template
        if path.startswith("/document-templates")
        else world.standard_template
    )
    known = world_ids(world, template)
    names = re.findall(r"{(\w+)}", path)
    unknown = [n for n in names if n not in known]
    assert not unknown, f"{path}: no id of the world fits {unknown}; add one"
    return {n: str(known[n]) for n in names}


def build_world(http: httpx.Client, pipeline, tenant: str) -> World:
    """Record an organization with every kind of record in ``tenant``."""
    store = pipeline.event_store
    meta = EventMeta(tenant, "setup", "e2e-setup", "e2e-setup")
    name = f"Matrix Pumps {uuid.uuid4().hex[:8]}"
    organization = Organization.register(meta, name, "GB")
    sites = tuple(
        organization.add_site(meta, site, f"{site} Road 1")
        for site in ("North", "South")
    )
    template = StandardTemplate.draft(meta, "ISO 9001", "2015", "QMS")
    template.add_clause(meta, CLAUSE, "Operation", "Operational planning")
    template.publish(meta, utc_today() - timedelta(days=60))
    layout = DocumentTemplate.create(
        meta, "certificate", "Certificate", "ACME", ("holder", "scope"), "Sig"
    )
    report_layout = DocumentTemplate.create(
        meta, "audit_report", "Audit report", "ACME", ("summary", "findings"), "Sig"
    )
    store.append(organization, template, layout, report_layout)

    decided_on = utc_today() - timedelta(days=3)
    decided = started_audit(meta, organization.id, sites, template.id, decided_on)
    decided.assess_requirement(meta, CLAUSE, "conforming")
    decided.draft_report(meta, "No nonconformities")
    decided.submit_for_review(meta, "rita")
    decided.approve_review(replace(meta, actor_id="rita"))
    decided.record_decision(meta, "dmitri", "grant", "Meets ISO 9001", decided_on)
    running = started_audit(meta, organization.id, sites[:1], template.id, decided_on)
    finding = running.raise_finding(
        meta, CLAUSE, "minor_nonconformity", "Log gap", "Record missing", decided_on
    )
    running.submit_response(
        meta, finding, "Oversight", "Logged", "Weekly log check", utc_today()
    )
    store.append(decided, running)

    issued = http.post(
        "/certificates",
        json={
            "audit_id": str(decided.id),
            "site_scopes": [{"site_id": str(s), "scope": "Pumps"} for s in sites],
            "effective_date": decided_on.isoformat(),
            "expiry_date": (decided_on + timedelta(days=3 * 365)).isoformat(),
        },
        headers=as_user(tenant, "decision_maker", actor="dora"),
    )
    assert issued.status_code == 201, issued.text
    uploaded = http.post(
        f"/audits/{running.id}/evidence",
        files={"file": ("log.pdf", PDF, "application/pdf")},
        data={"finding_id": str(finding)},
        headers=as_user(tenant, "auditor", actor="arun"),
    )
    assert uploaded.status_code == 201, uploaded.text
    certificate = issued.json()
    documents = _documents(
        http,
        pipeline,
        tenant,
        decided.id,
        UUID(certificate["id"]),
        (report_layout.id, layout.id),
    )
    report_document, certificate_document = documents
    admin = CommandContext(
        Principal(tenant, "e2e-setup", frozenset({Role.TENANT_ADMIN})),
        f"e2e-setup-{uuid.uuid4().hex}",
    )
    email = unique_email("matrix")
    invited = pipeline.services.accounts.invite(
        admin, Invite(email, f"Ina Matrix {uuid.uuid4().hex[:8]}", ("auditor",))
    )
    token = pipeline.services.api_tokens.issue(
        admin, IssueApiToken("Matrix sync", ("compliance_officer",), (), 30)
    )
    subscription, delivery = _webhook(pipeline, admin, organization)
    return World(
        tenant=tenant,
        organization=organization.id,
        organization_name=name,
        sites=sites,
        standard_template=template.id,
        document_template=layout.id,
        report_template=report_layout.id,
        decided_audit=decided.id,
        audit=running.id,
        finding=finding,
        evidence=UUID(uploaded.json()["id"]),
        certificate=UUID(certificate["id"]),
        certificate_number=certificate["number"],
        verification_code=certificate["verification_code"],
        document=report_document.id,
        certificate_document=certificate_document.id,
        account=invited.id,
        account_email=email,
        api_token=token.id,
        api_token_secret=token.token,
        webhook_subscription=subscription,
        webhook_delivery=delivery,
        position=max(
            certificate["position"],
            uploaded.json()["position"],
            invited.position,
            token.position,
            *(d.position for d in documents),
        ),
    )


def _webhook(
    pipeline, admin: CommandContext, organization: Organization
) -> tuple[UUID, UUID]:
    """A webhook subscription of the tenant (to a port nothing listens on),
    owed the organization's registration, queued as the fan-out queues it."""
    created = pipeline.services.webhooks.subscribe(
        admin, Subscribe("http://127.0.0.1:9/matrix", description="Matrix hook")
    )
    subscription = created.subscription.subscription_id
    with pipeline.database.connection() as conn:
        conn.execute(
            "UPDATE webhook_subscriptions SET start_position = 0, state = 'paused'"
            " WHERE subscription_id = %s",
            (subscription,),
        )
    return subscription, _queue_delivery(pipeline, subscription, admin, organization)


def _queue_delivery(pipeline, subscription, admin, organization) -> UUID:
    envelope = EventEnvelope(
        id=str(uuid.uuid4()),
        type="assurehub.organization.registered.v2",
        source="/assurehub",
        subject=str(organization.id),
        time=datetime.now(UTC),
        tenant_id=admin.principal.tenant_id,
        position=1,
        aggregate_version=1,
        actor_id="setup",
        correlation_id="e2e-setup",
        causation_id="e2e-setup",
        data={"name": organization.name},
    )
    with pipeline.database.connection() as conn:
        enqueue(conn, [owed(envelope)])
        row = conn.execute(
            "SELECT delivery_id FROM webhook_deliveries WHERE subscription_id = %s",
            (subscription,),
        ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def started_audit(
    meta: EventMeta,
    organization: UUID,
    sites: tuple[UUID, ...],
    template: UUID,
    decided_on: date,
) -> Audit:
    """An audit of ``sites`` planned, staffed (led by ``LEAD``, with the
    auditor ``arun``) and started before ``decided_on``."""
    start = decided_on - timedelta(days=10)
    audit = Audit.plan(
        meta,
        organization_id=organization,
        site_ids=sites,
        standard_template_id=template,
        standard_version=1,
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_type="stage_2",
        planned_start=start,
        planned_end=start + timedelta(days=2),
        scope_statement="Design and manufacture of pumps",
    )
    audit.assign_team(meta, LEAD, ("arun",))
    audit.start(meta, start)
    return audit


def _documents(
    http: httpx.Client,
    pipeline,
    tenant: str,
    decided: UUID,
    certificate: UUID,
    templates: tuple[UUID, UUID],
) -> tuple[Accepted, Accepted]:
    """Close the decided audit, choose the certificate template and ask for
    the audit's report (``templates``: report, certificate), then play the
    document processor: request the certificate's document and record both
    rendered. Returns each document's last answer (report, certificate)."""
    report_template, certificate_template = templates
    manager = as_user(tenant, "programme_manager", actor="mia")
    closed = http.post(f"/audits/{decided}/close", headers=manager)
    assert closed.status_code == 200, closed.text
    chosen = http.post(
        "/tenant/settings/certificate-template",
        json={"template_id": str(certificate_template)},
        headers=as_user(tenant, "tenant_admin", actor="ada"),
    )
    assert chosen.status_code == 200, chosen.text
    asked = http.post(
        f"/audits/{decided}/documents",
        json={
            "kind": "audit_report",
            "template_id": str(report_template),
            "format": "pdf",
        },
        headers=manager,
    )
    assert asked.status_code == 202, asked.text
    system = CommandContext(
        Principal.for_system(tenant, "system:documents"),
        f"e2e-setup-{uuid.uuid4().hex}",
    )
    services = pipeline.services.documents
    requested = services.request_certificate_document(
        system, RequestCertificateDocument(certificate, 1)
    )
    stored = pipeline.files.put(io.BytesIO(PDF), len(PDF))

    def rendered(document: UUID, name: str) -> Accepted:
        file = RecordRendered(document, stored.sha256, stored.size, 1, name)
        return services.record_rendered(system, file)

    return (
        rendered(UUID(asked.json()["id"]), "Matrix-report.pdf"),
        rendered(requested.id, "Matrix-certificate.pdf"),
    )
