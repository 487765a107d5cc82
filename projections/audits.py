"""Audits read model: the audits list and detail, and the findings register.

:class:`AuditProjection` keeps the tables of :mod:`projections.audit_tables`
from audit and evidence events. Each row mirrors what the audit aggregate
(:mod:`domain.audit`) holds after the same events, including its quieter
rules: audit work done after the report was drafted sends the audit back to
``in_progress``; a rejected response keeps its due date; reopening moves the
decision to ``past_decisions``.

Order: one audit's events arrive in order, so finding events read what they
lack (the organization) from the audit row. Evidence is another aggregate and
may arrive before or after its audit: its row is keyed by its own id, and the
copy of the audit's organization on it is filled by whichever of the two
arrives second, so both orders end with the same rows.

The audit team is kept on the audit row only. Findings and evidence are
scoped to an audit by ``audit_id``; a copy of the team on them would make
every team change rewrite every finding and file of the audit (quadratic in
an audit with many findings and team changes).

Versions: ``audits.version`` is the audit's version after its latest event,
the ETag of the audit and of every command on it (findings included).
``findings.version`` and ``assessments.version`` are the audit's version when
that row last changed, not an ETag; a finding's version is the one the
domain's finding carries, so
:func:`~projections.audit_decisions.decision_of` can tell which findings
moved after the decision that recorded them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from domain.audit_values import (
    AuditStatus,
    FindingStatus,
    Grade,
    initial_status,
    status_after_regrade,
)
from projections.audit_tables import (
    ASSESSMENTS,
    AUDITS,
    COUNT_COLUMNS,
    EVIDENCE,
    FINDINGS,
    TABLES,
    finding_counts,
    finding_flags,
)
from projections.envelope import EventEnvelope
from projections.rows import Row, Rows, Table

_AUDIT = "assurehub.audit."
PLANNED = f"{_AUDIT}planned.v1"
EVIDENCE_UPLOADED = "assurehub.evidence.uploaded.v1"


class _Step:
    """One audit event being applied: the audit's row and, for finding
    events, the finding's row before the event (a plain class: one is made
    per event, a rebuild makes a million)."""

    __slots__ = ("audit", "event", "finding", "store")

    def __init__(
        self, event: EventEnvelope, store: Rows, audit: Row, finding: Row | None = None
    ) -> None:
        self.event = event
        self.store = store
        self.audit = audit
        self.finding: Row = {} if finding is None else finding

    @property
    def data(self) -> dict[str, Any]:
        return self.event.data


_id = lru_cache(maxsize=4096)(UUID)
"""``UUID(text)`` of the audits and findings seen lately (one audit's events
come close together; parsing is most of what a key costs)."""


Handler = Callable[[_Step], Row]
"""Applies an audit event; returns the changes to the audit's (or, under
:func:`_on_finding`, the finding's) row."""


class MissingAuditRowError(LookupError):
    """An audit event refers to an audit or finding that has no row.

    Cannot happen while one aggregate's events arrive in order and exactly
    once; raising aborts the transaction rather than losing the event.
    """


@dataclass(frozen=True)
class _Copy:
    """Changes that copy event fields to columns.

    Attributes:
        status: The status the event leads to, if it changes it.
        fields: Event field to column, copied as is.
        dates: Event fields copied, as dates, to columns of the same name.
        stamp: Column that records the event's time.
        clear: Columns set to null.
    """

    status: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    dates: tuple[str, ...] = ()
    stamp: str | None = None
    clear: tuple[str, ...] = ()

    def __call__(self, step: _Step) -> Row:
        changes = {col: _json(step.data[name]) for name, col in self.fields.items()}
        changes.update({name: _date(step.data[name]) for name in self.dates})
        changes.update(dict.fromkeys(self.clear))
        if self.stamp is not None:
            changes[self.stamp] = step.event.time
        if self.status is not None:
            changes["status"] = str(self.status)
        return changes


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def _full(table: Table, values: Row) -> Row:
    return {**dict.fromkeys(table.column_names), **values}


def _stamp(event: EventEnvelope) -> Row:
    return {
        "version": event.aggregate_version,
        "position": event.position,
        "updated_at": event.time,
    }


def _date(value: str) -> date:
    return date.fromisoformat(value)


def _by(event: EventEnvelope, **facts: Any) -> dict[str, Any]:
    """A history entry: ``facts`` with who and when."""
    return {**facts, "by": event.actor_id, "at": event.time.isoformat()}


# -- audit-level events ------------------------------------------------------


def _planned(event: EventEnvelope, store: Rows) -> None:
    d = event.data
    audit_id = UUID(event.subject)
    row = {
        "tenant_id": event.tenant_id,
        "id": audit_id,
        "organization_id": UUID(d["organization_id"]),
        "site_ids": list(d["site_ids"]),
        "audit_type": d["audit_type"],
        "status": AuditStatus.PLANNED.value,
        "standard_template_id": UUID(d["standard_template_id"]),
        **{k: d[k] for k in ("standard_version", "standard_name", "standard_edition")},
        "planned_start": _date(d["planned_start"]),
        "planned_end": _date(d["planned_end"]),
        "scope_statement": d["scope_statement"],
        "planned_by": event.actor_id,
        "team": [],
        "team_roles": _roles(None, [], [], []),
        **{k: [] for k in ("reviews", "past_decisions", "reopenings")},
        **dict.fromkeys(COUNT_COLUMNS, 0),
        "created_at": event.time,
        "content_version": event.aggregate_version,
        **_stamp(event),
    }
    store.insert(AUDITS.name, _full(AUDITS, row))
    where = {"tenant_id": event.tenant_id, "audit_id": audit_id}
    for ev in store.find(EVIDENCE.name, where):
        store.update(
            EVIDENCE.name,
            (event.tenant_id, ev["id"]),
            {"organization_id": row["organization_id"]},
        )


def _roles(
    lead: str | None, auditors: list[str], experts: list[str], observers: list[str]
) -> dict[str, Any]:
    return {
        "lead_auditor": lead,
        "auditors": auditors,
        "technical_experts": experts,
        "observers": observers,
    }


def _team_assigned(step: _Step) -> Row:
    d = step.data
    lead: str | None = d["lead_auditor"]
    roles = _roles(lead, d["auditors"], d["technical_experts"], d["observers"])
    others = (*roles["auditors"], *roles["technical_experts"], *roles["observers"])
    team = sorted({*([lead] if lead else []), *others})
    return {"lead_auditor": lead, "team": team, "team_roles": roles}


def _requirement_assessed(step: _Step) -> Row:
    d, event = step.data, step.event
    row = {
        "tenant_id": event.tenant_id,
        "audit_id": step.audit["id"],
        "clause_id": d["clause_id"],
        "result": d["result"],
        "notes": d["notes"],
        "evidence_ids": list(d["evidence_ids"]),
        "assessed_by": event.actor_id,
        "assessed_at": event.time,
        "version": event.aggregate_version,
        "position": event.position,
    }
    step.store.upsert(ASSESSMENTS.name, row)
    return {}


def _reviewed(outcome: str, status: AuditStatus) -> Handler:
    """Handler of a review's end: ``approved`` or ``returned_for_rework``."""

    def handle(step: _Step) -> Row:
        comments: str | None = step.data["comments"]
        reviewer = step.audit["technical_reviewer"]
        review = _by(step.event, outcome=outcome, comments=comments, reviewer=reviewer)
        return {
            "review_outcome": outcome,
            "review_comments": comments,
            "reviewed_at": step.event.time,
            "reviews": [*step.audit["reviews"], review],
            "status": status.value,
        }

    return handle


_DECISION = (
    "decision_outcome",
    "decision_reasons",
    "decided_by",
    "decided_on",
    "decision_basis",
)


def _decision_recorded(step: _Step) -> Row:
    d = step.data
    basis = None
    if d["audit_version"] is not None:
        basis = {
            "audit_version": d["audit_version"],
            "template_version": d["template_version"],
            "finding_versions": dict(d["finding_versions"] or {}),
            "position": step.event.position,
        }
    return {
        "decision_outcome": d["outcome"],
        "decision_reasons": d["reasons"],
        "decided_by": d["decided_by"],
        "decided_on": _date(d["decided_on"]),
        "decision_basis": basis,
        "status": AuditStatus.DECIDED.value,
    }


def _reopened(step: _Step) -> Row:
    audit = step.audit
    past = list(audit["past_decisions"])
    if audit["decision_outcome"] is not None:
        closed_at: datetime | None = audit["closed_at"]
        past.append(
            {
                "outcome": audit["decision_outcome"],
                "reasons": audit["decision_reasons"],
                "decided_by": audit["decided_by"],
                "decided_on": audit["decided_on"].isoformat(),
                "closed_at": None if closed_at is None else closed_at.isoformat(),
            }
        )
    reopening = _by(step.event, reason=step.data["reason"])
    return {
        "past_decisions": past,
        "reopenings": [*audit["reopenings"], reopening],
        **dict.fromkeys((*_DECISION, "review_outcome", "closed_at")),
        "status": AuditStatus.IN_PROGRESS.value,
    }


# -- findings ----------------------------------------------------------------


def _recount(audit: Row, old: Row | None, new: Row) -> Row:
    """The audit's count columns after one finding went from ``old`` to ``new``."""
    before = finding_counts(old["grade"], old["status"]) if old else {}
    after = finding_counts(new["grade"], new["status"])
    return {
        col: audit[col] + after[col] - before.get(col, 0)
        for col in COUNT_COLUMNS
        if after[col] != before.get(col, 0)
    }


def _finding_raised(step: _Step) -> Row:
    d, event, audit = step.data, step.event, step.audit
    status = initial_status(Grade(d["grade"])).value
    row = {
        "tenant_id": event.tenant_id,
        "id": UUID(d["finding_id"]),
        "audit_id": audit["id"],
        "organization_id": audit["organization_id"],
        "clause_id": d["clause_id"],
        "grade": d["grade"],
        "status": status,
        **finding_flags(d["grade"], status),
        "description": d["description"],
        "objective_evidence": d["objective_evidence"],
        "evidence_ids": list(d["evidence_ids"]),
        "raised_on": _date(d["raised_on"]),
        "raised_by": event.actor_id,
        "regrades": [],
        "raised_at": event.time,
        **_stamp(event),
    }
    step.store.insert(FINDINGS.name, _full(FINDINGS, row))
    return _recount(audit, None, row)


def _on_finding(change: Handler) -> Handler:
    """Handler that applies ``change`` to the event's finding and recounts."""

    def handle(step: _Step) -> Row:
        key = (step.event.tenant_id, _id(step.data["finding_id"]))
        old = step.store.get(FINDINGS.name, key)
        if old is None:
            raise MissingAuditRowError(
                f"{step.event.type} of audit {step.event.subject} names finding "
                f"{key[1]}, which has no row"
            )
        changes = change(_Step(step.event, step.store, step.audit, old))
        new = {**old, **changes}
        derived = finding_flags(new["grade"], new["status"])
        step.store.update(
            FINDINGS.name, key, {**changes, **derived, **_stamp(step.event)}
        )
        return _recount(step.audit, old, new)

    return handle


def _regraded(step: _Step) -> Row:
    grade, old = step.data["grade"], step.finding
    regrade = _by(step.event, reason=step.data["reason"], to=grade)
    regrade["from"] = old["grade"]
    status = status_after_regrade(FindingStatus(old["status"]), Grade(grade))
    return {
        "grade": grade,
        "status": status.value,
        "regrades": [*old["regrades"], regrade],
    }


def _response_submitted(step: _Step) -> Row:
    d = step.data
    texts = ("root_cause", "correction", "corrective_action", "due_date")
    response = _by(step.event, **{k: d[k] for k in texts})
    return {
        "status": FindingStatus.RESPONSE_SUBMITTED.value,
        "response": response,
        "due_date": _date(d["due_date"]),
    }


# -- evidence ----------------------------------------------------------------


def _evidence_uploaded(event: EventEnvelope, store: Rows) -> None:
    d = event.data
    audit_id = UUID(d["audit_id"])
    audit = store.get(AUDITS.name, (event.tenant_id, audit_id))
    finding_id = d["finding_id"]
    row = {
        "tenant_id": event.tenant_id,
        "id": UUID(event.subject),
        "audit_id": audit_id,
        "finding_id": None if finding_id is None else UUID(finding_id),
        "organization_id": None if audit is None else audit["organization_id"],
        **{k: d[k] for k in ("file_name", "size", "media_type", "sha256")},
        "uploaded_by": event.actor_id,
        "uploaded_at": event.time,
        "version": event.aggregate_version,
        "position": event.position,
    }
    store.insert(EVIDENCE.name, row)


_S = AuditStatus
_F = FindingStatus
_BY_NAME: dict[str, Handler] = {
    "details_changed": _Copy(
        fields={"scope_statement": "scope_statement", "site_ids": "site_ids"},
        dates=("planned_start", "planned_end"),
    ),
    "team_assigned": _team_assigned,
    "started": _Copy(_S.IN_PROGRESS, dates=("started_on",)),
    "cancelled": _Copy(
        _S.CANCELLED, {"reason": "cancellation_reason"}, stamp="cancelled_at"
    ),
    "requirement_assessed": _requirement_assessed,
    "report_drafted": _Copy(
        _S.REPORT_DRAFTED, {"summary": "report_summary"}, stamp="report_drafted_at"
    ),
    "submitted_for_review": _Copy(
        _S.UNDER_REVIEW,
        {"technical_reviewer": "technical_reviewer"},
        stamp="submitted_at",
        clear=("review_outcome",),
    ),
    "review_approved": _reviewed("approved", _S.REVIEW_APPROVED),
    "returned_for_rework": _reviewed("returned_for_rework", _S.IN_PROGRESS),
    "decision_recorded": _decision_recorded,
    "closed": _Copy(_S.CLOSED, stamp="closed_at"),
    "reopened": _reopened,
    "finding_raised": _finding_raised,
    "finding_regraded": _on_finding(_regraded),
    "finding_dismissed": _on_finding(
        _Copy(_F.DISMISSED, {"reason": "dismissal_reason"}, stamp="closed_at")
    ),
    "response_submitted": _on_finding(_response_submitted),
    "response_accepted": _on_finding(_Copy(_F.RESPONSE_ACCEPTED)),
    "response_rejected": _on_finding(
        _Copy(_F.AWAITING_RESPONSE, {"reason": "rejection_reason"})
    ),
    "corrective_action_implemented": _on_finding(
        _Copy(_F.ACTION_IMPLEMENTED, dates=("implemented_on",))
    ),
    "corrective_action_verified": _on_finding(
        _Copy(_F.VERIFIED, {"verified_by": "verified_by"}, dates=("verified_on",))
    ),
    "finding_closed": _on_finding(_Copy(_F.CLOSED, stamp="closed_at")),
}
_VERSIONS = {"decision_recorded": 2}
"""Current public version of the audit events not at version 1."""


def _type(name: str) -> str:
    return f"{_AUDIT}{name}.v{_VERSIONS.get(name, 1)}"


_HANDLERS = {_type(name): handler for name, handler in _BY_NAME.items()}

_NOT_CONTENT = frozenset(
    _type(name)
    for name in _BY_NAME
    if name.startswith(("finding_", "response_", "corrective_action_"))
    or name in ("decision_recorded", "closed")
)
"""Audit events that leave ``content_version`` as it is: finding changes
(their own versions tell), the decision itself and closing."""

_OUTDATE_DRAFT = frozenset(
    f"{_AUDIT}{name}.v1"
    for name in (
        "team_assigned",
        "requirement_assessed",
        "finding_raised",
        "finding_regraded",
        "finding_dismissed",
    )
)
"""Audit work that, done after drafting, sends the audit back to in_progress."""

EVENT_TYPES = frozenset({PLANNED, EVIDENCE_UPLOADED, *_HANDLERS})
"""Every event type the projection handles; it ignores all others."""


class AuditProjection:
    """Builds the audits, assessments, findings and evidence tables.

    Attributes:
        name: ``audits``; its tables live in schema ``rm_audits``.
        tables: See :mod:`projections.audit_tables`.
    """

    name = "audits"
    tables = TABLES

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Apply one audit or evidence event; other types are ignored.

        Raises:
            MissingAuditRowError: an audit event other than ``planned`` for an
                audit (or finding) without a row.
        """
        if event.type == PLANNED:
            _planned(event, store)
        elif event.type == EVIDENCE_UPLOADED:
            _evidence_uploaded(event, store)
        elif (handler := _HANDLERS.get(event.type)) is not None:
            _apply_to_audit(event, store, handler)


def _apply_to_audit(event: EventEnvelope, store: Rows, handler: Handler) -> None:
    key = (event.tenant_id, _id(event.subject))
    audit = store.get(AUDITS.name, key)
    if audit is None:
        raise MissingAuditRowError(
            f"{event.type} at position {event.position} is for audit "
            f"{event.subject} of tenant {event.tenant_id}, which has no row"
        )
    changes = handler(_Step(event, store, audit))
    drafted = audit["status"] == AuditStatus.REPORT_DRAFTED
    if drafted and event.type in _OUTDATE_DRAFT:
        changes["status"] = AuditStatus.IN_PROGRESS.value
    if event.type not in _NOT_CONTENT:
        changes["content_version"] = event.aggregate_version
    store.update(AUDITS.name, key, {**changes, **_stamp(event)})
