"""An audit of one client organization against one standard, with its findings.

Lifecycle (:class:`~domain.audit_values.AuditStatus`)::

    planned ──start──▶ in_progress ⇄ report_drafted ──submit──▶ under_review
       │                   ▲  ▲                                   │      │
     cancel                │  └──────── return_for_rework ────────┘   approve
       ▼                reopen                                           ▼
    cancelled           closed ◀──close── decided ◀──decide── review_approved

Which commands each status accepts:

- planned: change_details, assign_team, start, cancel.
- in_progress, report_drafted (the audit work): assign_team,
  assess_requirement, raise/regrade/dismiss_finding, draft_report; any of
  these but drafting, done after drafting, sends the audit back to
  in_progress (the draft is outdated and must be redone before submission).
  report_drafted also accepts submit_for_review.
- under_review: approve_review, return_for_rework; review_approved:
  record_decision; decided: close; closed: reopen only (``audit.closed``);
  cancelled: nothing (``audit.cancelled``). Anything else is
  ``audit.invalid_transition``.
- From in_progress until closed, also the client's response and the
  corrective-action steps (submit/accept/reject_response, implement, verify,
  close_finding): corrective actions commonly follow the audit, so they go on
  under review and after the decision.

Findings live inside this aggregate rather than in their own. The rules that
matter most ("the audit cannot close while a major nonconformity is not
verified effective", "no certificate while a major is open") read every
finding of the audit together with the audit's status, so they are checked
against one consistent version under one optimistic-concurrency check; a
finding belongs to exactly one audit and is never shared, so a separate
stream would only add cross-aggregate races. Each finding has its own id,
made by :meth:`Audit.raise_finding`.

Independence: nobody who took part in the audit (anyone ever on its team,
named its technical reviewer, or who verified a corrective action) may record
its decision, and the technical reviewer may not be on the team. A grant is
refused while a major is unverified or a minor has no accepted response.

Layout: this module holds the events, each with the ``apply`` that changes
the state (``__init__`` for :class:`Audit.Planned`). The events stay here so
that their topics remain ``domain.audit:Audit.<Name>``. The state and the
checks made against it are in :mod:`domain.audit_state`; the commands in the
mixins :mod:`domain.audit_planning`, :mod:`domain.audit_findings` and
:mod:`domain.audit_review`; the values in :mod:`domain.audit_values`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.audit_findings import FindingCommands
from domain.audit_planning import PlanningCommands
from domain.audit_review import ReviewCommands

# Limits and status groups of the audit, re-exported as public names of this module.
from domain.audit_values import CLAUSE_MAX as CLAUSE_MAX
from domain.audit_values import EDITION_MAX as EDITION_MAX
from domain.audit_values import FOLLOW_UP as FOLLOW_UP
from domain.audit_values import NAME_MAX as NAME_MAX
from domain.audit_values import REPORT_MAX as REPORT_MAX
from domain.audit_values import TEXT_MAX as TEXT_MAX
from domain.audit_values import WORK as WORK
from domain.audit_values import (
    Assessment,
    AuditStatus,
    AuditType,
    ClauseResult,
    ClientResponse,
    Decision,
    DecisionOutcome,
    Finding,
    FindingStatus,
    Grade,
    PastGrade,
    Team,
    initial_status,
    status_after_regrade,
)
from domain.events import EventMeta


class Audit(PlanningCommands, FindingCommands, ReviewCommands, Aggregate):
    """One audit of a client organization, from planning to closing.

    Its state (see :class:`~domain.audit_state.AuditState`) changes only by
    applying the events below; the commands that trigger them are inherited
    from the mixins named in the module docstring.
    """

    class Event(Aggregate.Event):
        """Base of Audit events."""

        TYPE: ClassVar[str]
        meta: EventMeta

    class Planned(Event, Aggregate.Created):
        """The audit was planned for an organization, standard and dates."""

        TYPE = "audit.planned"
        organization_id: UUID
        site_ids: tuple[UUID, ...]
        standard_template_id: UUID
        standard_version: int
        standard_name: str
        standard_edition: str
        audit_type: str
        planned_start: date
        planned_end: date
        scope_statement: str

    class DetailsChanged(Event):
        """The planned dates, scope statement or sites changed."""

        TYPE = "audit.details_changed"
        planned_start: date
        planned_end: date
        scope_statement: str
        site_ids: tuple[UUID, ...]

        def apply(self, aggregate: Audit) -> None:
            aggregate.planned_start = self.planned_start
            aggregate.planned_end = self.planned_end
            aggregate.scope_statement = self.scope_statement
            aggregate.site_ids = tuple(self.site_ids)

    class TeamAssigned(Event):
        """The audit team was assigned (replacing any earlier team)."""

        TYPE = "audit.team_assigned"
        lead_auditor: str | None
        auditors: tuple[str, ...]
        technical_experts: tuple[str, ...]
        observers: tuple[str, ...]

        def apply(self, aggregate: Audit) -> None:
            aggregate.team = Team(
                self.lead_auditor,
                tuple(self.auditors),
                tuple(self.technical_experts),
                tuple(self.observers),
            )
            aggregate._involved |= aggregate.team.members()
            aggregate._outdate_draft()

    class Started(Event):
        """The audit started (it is scheduled with its lead auditor)."""

        TYPE = "audit.started"
        started_on: date

        def apply(self, aggregate: Audit) -> None:
            aggregate.started_on = self.started_on
            aggregate.status = AuditStatus.IN_PROGRESS

    class Cancelled(Event):
        """The audit was cancelled before it started."""

        TYPE = "audit.cancelled"
        reason: str

        def apply(self, aggregate: Audit) -> None:
            aggregate.cancellation_reason = self.reason
            aggregate.status = AuditStatus.CANCELLED

    class RequirementAssessed(Event):
        """A clause of the standard was assessed."""

        TYPE = "audit.requirement_assessed"
        clause_id: str
        result: str
        notes: str | None
        evidence_ids: tuple[UUID, ...]

        def apply(self, aggregate: Audit) -> None:
            assessment = Assessment(
                self.clause_id,
                ClauseResult(self.result),
                self.notes,
                tuple(self.evidence_ids),
            )
            aggregate._assessments = {
                **aggregate._assessments,
                self.clause_id: assessment,
            }
            aggregate._outdate_draft()

    class ReportDrafted(Event):
        """The audit report was drafted."""

        TYPE = "audit.report_drafted"
        summary: str

        def apply(self, aggregate: Audit) -> None:
            aggregate.report_summary = self.summary
            aggregate.status = AuditStatus.REPORT_DRAFTED

    class SubmittedForReview(Event):
        """The report was submitted to a technical reviewer."""

        TYPE = "audit.submitted_for_review"
        technical_reviewer: str

        def apply(self, aggregate: Audit) -> None:
            aggregate.technical_reviewer = self.technical_reviewer
            aggregate._involved |= {self.technical_reviewer}
            aggregate.status = AuditStatus.UNDER_REVIEW

    class ReviewApproved(Event):
        """The technical reviewer approved the audit."""

        TYPE = "audit.review_approved"
        comments: str | None

        def apply(self, aggregate: Audit) -> None:
            aggregate.review_comments = self.comments
            aggregate.status = AuditStatus.REVIEW_APPROVED

    class ReturnedForRework(Event):
        """The technical reviewer returned the audit to the team."""

        TYPE = "audit.returned_for_rework"
        comments: str

        def apply(self, aggregate: Audit) -> None:
            aggregate.review_comments = self.comments
            aggregate.status = AuditStatus.IN_PROGRESS

    class DecisionRecorded(Event):
        """The certification decision was recorded, with what it was taken on.

        ``audit_version`` is the audit's version the decider saw,
        ``template_version`` the standard template's version the audit used,
        ``finding_versions`` each finding's version by finding id. Version 2
        added the three; stored version 1 events are upcast with none.
        """

        TYPE = "audit.decision_recorded"
        class_version = 2
        outcome: str
        reasons: str
        decided_by: str
        decided_on: date
        audit_version: int | None
        template_version: int | None
        finding_versions: dict[str, int] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            """Version 1 did not record what the decision was taken on."""
            state["audit_version"] = None
            state["template_version"] = None
            state["finding_versions"] = None

        def apply(self, aggregate: Audit) -> None:
            aggregate.decision = Decision(
                DecisionOutcome(self.outcome),
                self.reasons,
                self.decided_by,
                self.decided_on,
                self.audit_version,
                self.template_version,
                None if self.finding_versions is None else dict(self.finding_versions),
            )
            aggregate.status = AuditStatus.DECIDED

    class Closed(Event):
        """The audit was closed; it is read-only from now on."""

        TYPE = "audit.closed"

        def apply(self, aggregate: Audit) -> None:
            aggregate.status = AuditStatus.CLOSED

    class Reopened(Event):
        """The closed audit was reopened; review and decision must be redone."""

        TYPE = "audit.reopened"
        reason: str

        def apply(self, aggregate: Audit) -> None:
            if aggregate.decision is not None:
                aggregate.past_decisions = (
                    *aggregate.past_decisions,
                    aggregate.decision,
                )
            aggregate.decision = None
            aggregate.reopen_reasons = (*aggregate.reopen_reasons, self.reason)
            aggregate.status = AuditStatus.IN_PROGRESS

    class FindingRaised(Event):
        """A finding was raised against a clause."""

        TYPE = "audit.finding_raised"
        finding_id: UUID
        clause_id: str
        grade: str
        description: str
        objective_evidence: str
        evidence_ids: tuple[UUID, ...]
        raised_on: date

        def apply(self, aggregate: Audit) -> None:
            finding = Finding(
                id=self.finding_id,
                clause_id=self.clause_id,
                grade=Grade(self.grade),
                description=self.description,
                objective_evidence=self.objective_evidence,
                evidence_ids=tuple(self.evidence_ids),
                raised_on=self.raised_on,
                status=initial_status(Grade(self.grade)),
            )
            aggregate._put(finding)
            aggregate._outdate_draft()

    class FindingRegraded(Event):
        """A finding's grade was changed; the old grade is kept in its history."""

        TYPE = "audit.finding_regraded"
        finding_id: UUID
        grade: str
        reason: str

        def apply(self, aggregate: Audit) -> None:
            old = aggregate._findings[self.finding_id]
            past = (*old.past_grades, PastGrade(old.grade, self.reason))
            grade = Grade(self.grade)
            status = status_after_regrade(old.status, grade)
            aggregate._put(replace(old, grade=grade, status=status, past_grades=past))
            aggregate._outdate_draft()

    class FindingDismissed(Event):
        """A finding was dismissed (withdrawn)."""

        TYPE = "audit.finding_dismissed"
        finding_id: UUID
        reason: str

        def apply(self, aggregate: Audit) -> None:
            old = aggregate._findings[self.finding_id]
            aggregate._put(
                replace(
                    old, status=FindingStatus.DISMISSED, dismissal_reason=self.reason
                )
            )
            aggregate._outdate_draft()

    class ResponseSubmitted(Event):
        """The client responded to a nonconformity."""

        TYPE = "audit.response_submitted"
        finding_id: UUID
        root_cause: str
        correction: str
        corrective_action: str
        due_date: date

        def apply(self, aggregate: Audit) -> None:
            response = ClientResponse(
                self.root_cause, self.correction, self.corrective_action, self.due_date
            )
            old = aggregate._findings[self.finding_id]
            aggregate._put(
                replace(old, status=FindingStatus.RESPONSE_SUBMITTED, response=response)
            )

    class ResponseAccepted(Event):
        """The client's response to a nonconformity was accepted."""

        TYPE = "audit.response_accepted"
        finding_id: UUID

        def apply(self, aggregate: Audit) -> None:
            old = aggregate._findings[self.finding_id]
            aggregate._put(replace(old, status=FindingStatus.RESPONSE_ACCEPTED))

    class ResponseRejected(Event):
        """The client's response was rejected; a new one is awaited."""

        TYPE = "audit.response_rejected"
        finding_id: UUID
        reason: str

        def apply(self, aggregate: Audit) -> None:
            old = aggregate._findings[self.finding_id]
            aggregate._put(
                replace(
                    old,
                    status=FindingStatus.AWAITING_RESPONSE,
                    rejection_reason=self.reason,
                )
            )

    class CorrectiveActionImplemented(Event):
        """The client implemented the accepted corrective action."""

        TYPE = "audit.corrective_action_implemented"
        finding_id: UUID
        implemented_on: date

        def apply(self, aggregate: Audit) -> None:
            old = aggregate._findings[self.finding_id]
            aggregate._put(
                replace(
                    old,
                    status=FindingStatus.ACTION_IMPLEMENTED,
                    implemented_on=self.implemented_on,
                )
            )

    class CorrectiveActionVerified(Event):
        """An auditor verified the corrective action effective."""

        TYPE = "audit.corrective_action_verified"
        finding_id: UUID
        verified_by: str
        verified_on: date

        def apply(self, aggregate: Audit) -> None:
            old = aggregate._findings[self.finding_id]
            aggregate._put(
                replace(
                    old,
                    status=FindingStatus.VERIFIED,
                    verified_by=self.verified_by,
                    verified_on=self.verified_on,
                )
            )
            aggregate._involved |= {self.verified_by}

    class FindingClosed(Event):
        """A finding was closed."""

        TYPE = "audit.finding_closed"
        finding_id: UUID

        def apply(self, aggregate: Audit) -> None:
            old = aggregate._findings[self.finding_id]
            aggregate._put(replace(old, status=FindingStatus.CLOSED))

    def __init__(
        self,
        meta: EventMeta,
        organization_id: UUID,
        site_ids: tuple[UUID, ...],
        standard_template_id: UUID,
        standard_version: int,
        standard_name: str,
        standard_edition: str,
        audit_type: str,
        planned_start: date,
        planned_end: date,
        scope_statement: str,
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.organization_id = organization_id
        self.site_ids = tuple(site_ids)
        self.standard_template_id = standard_template_id
        self.standard_version = standard_version
        self.standard_name = standard_name
        self.standard_edition = standard_edition
        self.audit_type = AuditType(audit_type)
        self.planned_start = planned_start
        self.planned_end = planned_end
        self.scope_statement = scope_statement
        self.status = AuditStatus.PLANNED
        self.team = Team()
        self.started_on = None
        self.cancellation_reason = None
        self.report_summary = None
        self.technical_reviewer = None
        self.review_comments = None
        self.decision = None
        self.past_decisions = ()
        self.reopen_reasons = ()
        self._assessments = {}
        self._findings = {}
        self._involved = frozenset()

    # -- state changes, for apply only -------------------------------------

    def _put(self, finding: Finding) -> None:
        """Called by ``apply`` only: store the new state of one finding, at
        the version the applied event gives the audit."""
        changed = replace(finding, version=self.version + 1)
        self._findings = {**self._findings, finding.id: changed}

    def _outdate_draft(self) -> None:
        """Called by ``apply`` only: audit work after drafting needs a redraft."""
        if self.status is AuditStatus.REPORT_DRAFTED:
            self.status = AuditStatus.IN_PROGRESS
