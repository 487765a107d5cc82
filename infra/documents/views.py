"""The renderer's whole input: what one report or certificate shows.

A view is built from domain aggregates loaded at fixed versions (the audit,
its organization, the standard template, the document template) and holds
nothing else: no clock, no settings, no connections. The same view always
renders to the same bytes, so a document can be re-rendered later to check
a copy someone holds.

Enum-valued fields hold the domain enum's string value (``"stage_2"``,
``"major_nonconformity"``); people are given by the name to print, not by
actor id. Sequences are tuples and are printed in the order given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain.document_template import DocumentLayout


@dataclass(frozen=True)
class SiteView:
    """A site of the audited organization.

    Attributes:
        name: The site's name.
        address: Postal address, line breaks kept.
        country: ISO 3166-1 alpha-2 code, as the domain stores it.
    """

    name: str
    address: str
    country: str


@dataclass(frozen=True)
class TeamMemberView:
    """One person on the audit team.

    Attributes:
        name: Name to print.
        role: ``lead_auditor``, ``auditor``, ``technical_expert`` or ``observer``.
    """

    name: str
    role: str


@dataclass(frozen=True)
class ClauseAssessmentView:
    """The latest result recorded for one clause of the standard.

    Attributes:
        clause_id: Clause reference, e.g. ``7.5.3``.
        title: Clause title from the standard template version audited.
        result: A :class:`~domain.audit_values.ClauseResult` value.
        notes: The auditor's notes, if any.
    """

    clause_id: str
    title: str
    result: str
    notes: str | None = None


@dataclass(frozen=True)
class FindingView:
    """A finding with its corrective-action state.

    Attributes:
        clause_id: Clause the finding is raised against.
        grade: A :class:`~domain.audit_values.Grade` value.
        status: A :class:`~domain.audit_values.FindingStatus` value.
        description: What was found.
        objective_evidence: The evidence it rests on.
        raised_on: Date it was raised.
        root_cause: Client response: root cause, if responded.
        correction: Client response: immediate correction, if responded.
        corrective_action: Client response: corrective action, if responded.
        action_due: Date the client promised the corrective action for.
        implemented_on: Date the corrective action was implemented.
        verified_by: Name of the auditor who verified its effectiveness.
        verified_on: Date of that verification.
        dismissal_reason: Why the finding was dismissed, if it was.
    """

    clause_id: str
    grade: str
    status: str
    description: str
    objective_evidence: str
    raised_on: date
    root_cause: str | None = None
    correction: str | None = None
    corrective_action: str | None = None
    action_due: date | None = None
    implemented_on: date | None = None
    verified_by: str | None = None
    verified_on: date | None = None
    dismissal_reason: str | None = None


@dataclass(frozen=True)
class DecisionView:
    """The certification decision recorded on the audit.

    Attributes:
        outcome: A :class:`~domain.audit_values.DecisionOutcome` value.
        reasons: The reasons given.
        decided_by: Name of the decision maker.
        decided_on: Date of the decision.
    """

    outcome: str
    reasons: str
    decided_by: str
    decided_on: date


@dataclass(frozen=True)
class ReportView:
    """Everything an audit report shows, as of one version of the audit.

    Attributes:
        tenant_name: The assurance provider; printed and set as the author.
        audit_id: The audit reported on.
        audit_version: The audit aggregate version the view was built from.
        as_of: Date printed as the report's date and used for the file's
            timestamps: a date from the events (e.g. of the last event
            applied), never the wall clock.
        draft: True while the audit is not decided; marks every page DRAFT.
        layout: The document template version used; its ``sections`` must be
            report sections (:data:`domain.document_template.SECTIONS`).
        organization_name: The audited client organization.
        organization_address: Its address, line breaks kept, if known.
        sites: The sites the audit covers.
        standard_name: E.g. ``ISO 9001``.
        standard_edition: E.g. ``2015``.
        standard_version: Version of the standard template audited against.
        audit_type: An :class:`~domain.audit_values.AuditType` value.
        audit_status: An :class:`~domain.audit_values.AuditStatus` value.
        planned_start: First planned audit day.
        planned_end: Last planned audit day.
        started_on: Day the audit actually started, if it has.
        team: The audit team in the order to print.
        scope_statement: The audit's scope statement.
        assessments: The clause results, in the standard's clause order.
        findings: The findings, in the order raised.
        conclusion: The drafted report summary, if any.
        decision: The certification decision, if recorded.
    """

    tenant_name: str
    audit_id: UUID
    audit_version: int
    as_of: date
    draft: bool
    layout: DocumentLayout
    organization_name: str
    organization_address: str | None
    sites: tuple[SiteView, ...]
    standard_name: str
    standard_edition: str
    standard_version: int
    audit_type: str
    audit_status: str
    planned_start: date
    planned_end: date
    started_on: date | None
    team: tuple[TeamMemberView, ...]
    scope_statement: str
    assessments: tuple[ClauseAssessmentView, ...]
    findings: tuple[FindingView, ...]
    conclusion: str | None
    decision: DecisionView | None


@dataclass(frozen=True)
class CertifiedSiteView:
    """A site the certificate covers, with the scope certified there."""

    name: str
    address: str
    country: str
    scope: str


@dataclass(frozen=True)
class CertificateView:
    """Everything one certificate revision shows.

    Attributes:
        tenant_name: The certification body; printed and set as the author.
        certificate_id: The certificate revision rendered.
        layout: The document template version used; its ``sections`` must be
            certificate sections; its signature block is printed.
        holder_name: The certified organization.
        holder_address: Its address, line breaks kept.
        sites: Covered sites, each with its own scope.
        standard_name: E.g. ``ISO 9001``.
        standard_edition: E.g. ``2015``.
        number: Certificate number, shared by all revisions.
        revision: 1 for the first issue, one more for each revision.
        issue_date: Date this revision was issued; also the file timestamps.
        effective_date: First day the certificate is valid.
        expiry_date: First day the certificate is no longer valid.
        verification_url: Public verification URL, encoded in the QR code.
    """

    tenant_name: str
    certificate_id: UUID
    layout: DocumentLayout
    holder_name: str
    holder_address: str
    sites: tuple[CertifiedSiteView, ...]
    standard_name: str
    standard_edition: str
    number: str
    revision: int
    issue_date: date
    effective_date: date
    expiry_date: date
    verification_url: str
