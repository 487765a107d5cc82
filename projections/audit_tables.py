"""Tables of the audits read model, and what their derived columns mean.

Four tables, all keyed by tenant first (the ``audits`` projection's schema):

- ``audits``: one row per audit, for the list and the detail header; finding
  counts by grade and by status are kept up to date as findings change.
- ``assessments``: the latest result for each clause of each audit.
- ``findings``: the findings register across audits.
- ``evidence``: uploaded files, by their own id.

Scope filters: every row carries ``tenant_id``; audits, findings and evidence
rows also carry ``organization_id`` (the client organization), and findings
and evidence their ``audit_id``, so "a client user sees their organization"
and "an auditor sees their audits" (a principal's ``audit_ids``) are a
``WHERE`` away. Assessments are read only through their audit.

Only ``audits`` holds the ``team`` (actor ids of everyone now on the audit
team, lead included), for the audit list's ``auditor`` filter and the team
view. Findings and evidence carry no copy of it: a copy would make each team
change rewrite every finding and file of the audit.

Decision provenance: ``audits.decision_basis`` is what the current decision
was taken on (``audit_version``, ``template_version`` and ``finding_versions``
by finding id; null without a decision or for one recorded before this was
kept); ``audits.content_version`` is the audit's version after its latest
change to the audit itself (finding events, the decision and closing do not
count), which the decision's ``audit_version`` is compared with.

Organization names are not copied here: the query side joins the
organizations read model. Copying them would make these rows depend on the
order in which two aggregates' events arrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from domain.audit_values import ACTION_DUE, FINISHED, RESOLVED, FindingStatus, Grade
from projections.rows import Column, Table

GRADE_COLUMNS = {
    Grade.MAJOR_NONCONFORMITY.value: "findings_major",
    Grade.MINOR_NONCONFORMITY.value: "findings_minor",
    Grade.OBSERVATION.value: "findings_observation",
    Grade.OPPORTUNITY_FOR_IMPROVEMENT.value: "findings_ofi",
}
"""Audit column counting the findings of each grade (dismissed ones excluded)."""

STATUS_COLUMNS = {s.value: f"findings_{s.value}" for s in FindingStatus}
"""Audit column counting the findings in each status (dismissed included)."""

OPEN_MAJORS = "findings_open_majors"
"""Audit column counting major nonconformities not verified, closed nor
dismissed: the ones that block closing the audit and granting certification."""

COUNT_COLUMNS = (*GRADE_COLUMNS.values(), OPEN_MAJORS, *STATUS_COLUMNS.values())


def finding_counts(grade: str, status: str) -> dict[str, int]:
    """What one finding of ``grade`` in ``status`` adds to its audit's counts."""
    counts = dict.fromkeys(COUNT_COLUMNS, 0)
    counts[STATUS_COLUMNS[status]] = 1
    if status != FindingStatus.DISMISSED:
        counts[GRADE_COLUMNS[grade]] = 1
    if grade == Grade.MAJOR_NONCONFORMITY and FindingStatus(status) not in RESOLVED:
        counts[OPEN_MAJORS] = 1
    return counts


def finding_flags(grade: str, status: str) -> dict[str, bool]:
    """The ``open`` and ``action_due`` columns of a finding.

    ``open``: neither closed nor dismissed (it can still change).
    ``action_due``: a nonconformity whose corrective action is still to be
    done (awaiting or under review of a response, or response accepted).
    """
    return {
        "open": FindingStatus(status) not in FINISHED,
        "action_due": Grade(grade).is_nonconformity
        and FindingStatus(status) in ACTION_DUE,
    }


def is_overdue(finding: Mapping[str, Any], on: date) -> bool:
    """Whether a findings row is overdue on ``on``.

    Overdue is not stored, since it changes with the date and not with an
    event. The query side computes it as
    ``action_due AND due_date < :on``, which is what this function does and
    what :meth:`domain.audit_values.Finding.is_overdue` decides. ``due_date``
    is the date the client promised in its latest response; it is kept when
    that response is rejected, so it still counts until a new one replaces it.
    """
    due: date | None = finding["due_date"]
    return bool(finding["action_due"]) and due is not None and due < on


def _col(name: str, type_: str, nullable: bool = True) -> Column:
    return Column(name, type_, nullable)


_C = 'text COLLATE "C"'
_CHANGED = (
    _col("version", "integer", False),
    _col("position", "bigint", False),
    _col("updated_at", "timestamptz", False),
)

AUDITS = Table(
    name="audits",
    columns=(
        _col("tenant_id", "text", False),
        _col("id", "uuid", False),
        _col("organization_id", "uuid", False),
        _col("site_ids", "jsonb", False),
        _col("audit_type", "text", False),
        _col("status", "text", False),
        _col("standard_template_id", "uuid", False),
        _col("standard_version", "integer", False),
        _col("standard_name", "text", False),
        _col("standard_edition", "text", False),
        _col("planned_start", "date", False),
        _col("planned_end", "date", False),
        _col("scope_statement", "text", False),
        _col("planned_by", "text", False),
        _col("started_on", "date"),
        _col("lead_auditor", _C),
        _col("team", "text[]", False),
        _col("team_roles", "jsonb", False),
        _col("report_summary", "text"),
        _col("report_drafted_at", "timestamptz"),
        _col("technical_reviewer", "text"),
        _col("submitted_at", "timestamptz"),
        _col("review_outcome", "text"),
        _col("review_comments", "text"),
        _col("reviewed_at", "timestamptz"),
        _col("reviews", "jsonb", False),
        _col("decision_outcome", "text"),
        _col("decision_reasons", "text"),
        _col("decided_by", "text"),
        _col("decided_on", "date"),
        _col("decision_basis", "jsonb"),
        _col("past_decisions", "jsonb", False),
        _col("closed_at", "timestamptz"),
        _col("cancellation_reason", "text"),
        _col("cancelled_at", "timestamptz"),
        _col("reopenings", "jsonb", False),
        *(_col(name, "integer", False) for name in COUNT_COLUMNS),
        _col("created_at", "timestamptz", False),
        _col("content_version", "integer", False),
        *_CHANGED,
    ),
    key=("tenant_id", "id"),
    indexes=(
        ("tenant_id", "planned_start", "id"),
        ("tenant_id", "planned_end", "id"),
        ("tenant_id", "started_on", "id"),
        ("tenant_id", "status", "id"),
        ("tenant_id", "status", "planned_start", "id"),
        ("tenant_id", "organization_id", "planned_start", "id"),
        ("tenant_id", "lead_auditor", "planned_start", "id"),
        ("tenant_id", "updated_at", "id"),
    ),
)

ASSESSMENTS = Table(
    name="assessments",
    columns=(
        _col("tenant_id", "text", False),
        _col("audit_id", "uuid", False),
        _col("clause_id", _C, False),
        _col("result", "text", False),
        _col("notes", "text"),
        _col("evidence_ids", "jsonb", False),
        _col("assessed_by", "text", False),
        _col("assessed_at", "timestamptz", False),
        _col("version", "integer", False),
        _col("position", "bigint", False),
    ),
    key=("tenant_id", "audit_id", "clause_id"),
)

FINDINGS = Table(
    name="findings",
    columns=(
        _col("tenant_id", "text", False),
        _col("id", "uuid", False),
        _col("audit_id", "uuid", False),
        _col("organization_id", "uuid", False),
        _col("clause_id", _C, False),
        _col("grade", "text", False),
        _col("status", "text", False),
        _col("open", "boolean", False),
        _col("action_due", "boolean", False),
        _col("due_date", "date"),
        _col("description", "text", False),
        _col("objective_evidence", "text", False),
        _col("evidence_ids", "jsonb", False),
        _col("raised_on", "date", False),
        _col("raised_by", "text", False),
        _col("response", "jsonb"),
        _col("rejection_reason", "text"),
        _col("implemented_on", "date"),
        _col("verified_by", "text"),
        _col("verified_on", "date"),
        _col("dismissal_reason", "text"),
        _col("regrades", "jsonb", False),
        _col("closed_at", "timestamptz"),
        _col("raised_at", "timestamptz", False),
        *_CHANGED,
    ),
    key=("tenant_id", "id"),
    indexes=(
        ("tenant_id", "audit_id", "clause_id"),
        ("tenant_id", "raised_on", "id"),
        ("tenant_id", "organization_id", "raised_on", "id"),
        ("tenant_id", "grade", "status"),
        ("tenant_id", "open", "raised_on", "id"),
        ("tenant_id", "action_due", "due_date"),
    ),
)

EVIDENCE = Table(
    name="evidence",
    columns=(
        _col("tenant_id", "text", False),
        _col("id", "uuid", False),
        _col("audit_id", "uuid", False),
        _col("finding_id", "uuid"),
        _col("organization_id", "uuid"),
        _col("file_name", "text", False),
        _col("size", "bigint", False),
        _col("media_type", "text", False),
        _col("sha256", "text", False),
        _col("uploaded_by", "text", False),
        _col("uploaded_at", "timestamptz", False),
        _col("version", "integer", False),
        _col("position", "bigint", False),
    ),
    key=("tenant_id", "id"),
    indexes=(("tenant_id", "audit_id"), ("tenant_id", "finding_id")),
)

TABLES: tuple[Table, ...] = (AUDITS, ASSESSMENTS, FINDINGS, EVIDENCE)
