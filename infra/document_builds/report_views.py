"""An audit report's view, built from its sources at the recorded versions.

Pure: the same sources give the same :class:`~infra.documents.ReportView`.
The report's date (``as_of``) is the UTC date of the audit's last event at
the version reported on, never the day it is rendered. Clause results are
listed in the order of the standard's published version; a result recorded
for a clause that version lacks follows, in the order recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from domain.audit import Audit
from domain.audit_values import Finding, Team
from domain.errors import NotFoundError
from domain.organization import Organization
from infra.document_builds.errors import DocumentBuildError
from infra.document_builds.sources import MISSING, ReportSources, site_of
from infra.documents import (
    ClauseAssessmentView,
    DecisionView,
    FindingView,
    ReportView,
    SiteView,
    TeamMemberView,
)


def report_view(sources: ReportSources) -> ReportView:
    """The report of ``sources.audit`` as its recorded version left it.

    Raises:
        DocumentBuildError: ``document.source_missing``: the standard version
            audited against is not recorded.
    """
    audit, names = sources.audit, sources.names
    organization = sources.common.organization
    decision = audit.decision
    return ReportView(
        tenant_name=sources.common.tenant_name,
        audit_id=audit.id,
        audit_version=audit.version,
        as_of=audit.modified_on.astimezone(UTC).date(),
        draft=sources.draft,
        layout=sources.common.layout,
        organization_name=organization.name,
        organization_address=None,
        sites=_sites(audit, organization),
        standard_name=audit.standard_name,
        standard_edition=audit.standard_edition,
        standard_version=audit.standard_version,
        audit_type=audit.audit_type.value,
        audit_status=audit.status.value,
        planned_start=audit.planned_start,
        planned_end=audit.planned_end,
        started_on=audit.started_on,
        team=_team(audit.team, names),
        scope_statement=audit.scope_statement,
        assessments=_assessments(sources),
        findings=tuple(_finding(f, names) for f in audit.findings.values()),
        conclusion=audit.report_summary,
        decision=None
        if decision is None
        else DecisionView(
            decision.outcome.value,
            decision.reasons,
            names.get(decision.decided_by, decision.decided_by),
            decision.decided_on,
        ),
    )


def _sites(audit: Audit, organization: Organization) -> tuple[SiteView, ...]:
    sites = (site_of(organization, site_id) for site_id in audit.site_ids)
    return tuple(SiteView(s.name, s.address, s.country) for s in sites)


def _team(team: Team, names: Mapping[str, str]) -> tuple[TeamMemberView, ...]:
    lead = () if team.lead_auditor is None else ((team.lead_auditor, "lead_auditor"),)
    places = (
        *lead,
        *((a, "auditor") for a in team.auditors),
        *((e, "technical_expert") for e in team.technical_experts),
        *((o, "observer") for o in team.observers),
    )
    return tuple(TeamMemberView(names.get(a, a), role) for a, role in places)


def _assessments(sources: ReportSources) -> tuple[ClauseAssessmentView, ...]:
    audit = sources.audit
    try:
        published = sources.standard.published_version(audit.standard_version)
    except NotFoundError as e:
        raise DocumentBuildError(
            MISSING,
            f"standard template {sources.standard.id} has no published version "
            f"{audit.standard_version}",
        ) from e
    titles = {c.clause_id: c.title for c in published.clauses}
    recorded = audit.assessments
    order = [c.clause_id for c in published.clauses if c.clause_id in recorded]
    order += [clause for clause in recorded if clause not in titles]
    return tuple(
        ClauseAssessmentView(
            clause,
            titles.get(clause, ""),
            recorded[clause].result.value,
            recorded[clause].notes,
        )
        for clause in order
    )


def _finding(finding: Finding, names: Mapping[str, str]) -> FindingView:
    response = finding.response
    verifier = finding.verified_by
    return FindingView(
        clause_id=finding.clause_id,
        grade=finding.grade.value,
        status=finding.status.value,
        description=finding.description,
        objective_evidence=finding.objective_evidence,
        raised_on=finding.raised_on,
        root_cause=response.root_cause if response else None,
        correction=response.correction if response else None,
        corrective_action=response.corrective_action if response else None,
        action_due=response.due_date if response else None,
        implemented_on=finding.implemented_on,
        verified_by=None if verifier is None else names.get(verifier, verifier),
        verified_on=finding.verified_on,
        dismissal_reason=finding.dismissal_reason,
    )
