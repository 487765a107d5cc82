"""Words printed for domain values: enum labels, dates, team roles.

Dates print as ISO 8601 (``2026-12-04``) whatever the process locale, and
labels come from fixed tables, so the text of a document never depends on
the machine that renders it. A value missing from a table (an enum member
added later) prints as its words, e.g. ``new_value`` as "New value".
"""

from __future__ import annotations

from datetime import date

_LABELS: dict[str, str] = {
    # AuditType
    "stage_1": "Stage 1",
    "stage_2": "Stage 2",
    "surveillance": "Surveillance",
    "recertification": "Recertification",
    "special": "Special audit",
    # AuditStatus
    "planned": "Planned",
    "in_progress": "In progress",
    "report_drafted": "Report drafted",
    "under_review": "Under technical review",
    "review_approved": "Review approved",
    "decided": "Decided",
    "closed": "Closed",
    "cancelled": "Cancelled",
    # ClauseResult
    "conforming": "Conforming",
    "nonconforming": "Nonconforming",
    "not_applicable": "Not applicable",
    "not_assessed": "Not assessed",
    # Grade
    "major_nonconformity": "Major nonconformity",
    "minor_nonconformity": "Minor nonconformity",
    "observation": "Observation",
    "opportunity_for_improvement": "Opportunity for improvement",
    # FindingStatus
    "noted": "Noted",
    "awaiting_response": "Awaiting response",
    "response_submitted": "Response submitted",
    "response_accepted": "Response accepted",
    "action_implemented": "Action implemented",
    "verified": "Verified effective",
    "dismissed": "Dismissed",
    # DecisionOutcome
    "grant": "Certification granted",
    "refuse": "Certification refused",
    # Team roles
    "lead_auditor": "Lead auditor",
    "auditor": "Auditor",
    "technical_expert": "Technical expert",
    "observer": "Observer",
}

CLAUSE_RESULTS = ("conforming", "nonconforming", "not_applicable", "not_assessed")
"""Clause results in the order counts are printed."""

GRADES = (
    "major_nonconformity",
    "minor_nonconformity",
    "observation",
    "opportunity_for_improvement",
)
"""Finding grades in the order counts are printed."""


def label(value: str) -> str:
    """The words printed for an enum value or role."""
    known = _LABELS.get(value)
    if known is not None:
        return known
    return value.replace("_", " ").capitalize()


def day(value: date | None, missing: str = "—") -> str:
    """``value`` as ``YYYY-MM-DD``, or ``missing`` for none."""
    return missing if value is None else value.isoformat()


def counts(values: list[str], order: tuple[str, ...]) -> str:
    """How many of each value, in ``order`` then any others sorted.

    For example ``"12 Conforming, 1 Nonconforming"``; ``"none"`` if empty.
    """
    tally: dict[str, int] = {}
    for value in values:
        tally[value] = tally.get(value, 0) + 1
    keys = [k for k in order if k in tally] + sorted(k for k in tally if k not in order)
    if not keys:
        return "none"
    return ", ".join(f"{tally[k]:,} {label(k)}" for k in keys)
