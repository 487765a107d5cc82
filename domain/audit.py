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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from types import MappingProxyType
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.audit_values import (
    FINISHED,
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
    actor_id,
    parse_enum,
)
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta
from domain.values import bounded_text, date_range, optional_text

NAME_MAX = 200
EDITION_MAX = 50
CLAUSE_MAX = 50
TEXT_MAX = 4000
REPORT_MAX = 20000

WORK = (AuditStatus.IN_PROGRESS, AuditStatus.REPORT_DRAFTED)
"""Statuses in which the audit work (team, clauses, findings) may change."""
FOLLOW_UP = (
    *WORK,
    AuditStatus.UNDER_REVIEW,
    AuditStatus.REVIEW_APPROVED,
    AuditStatus.DECIDED,
)
"""Statuses in which responses and corrective-action steps may be recorded."""


def _uuids(values: Iterable[UUID]) -> tuple[UUID, ...]:
    return tuple(dict.fromkeys(values))


class Audit(Aggregate):
    """One audit of a client organization, from planning to closing."""

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
        """The certification decision was recorded."""

        TYPE = "audit.decision_recorded"
        outcome: str
        reasons: str
        decided_by: str
        decided_on: date

        def apply(self, aggregate: Audit) -> None:
            aggregate.decision = Decision(
                DecisionOutcome(self.outcome),
                self.reasons,
                self.decided_by,
                self.decided_on,
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
            aggregate._put(replace(old, grade=Grade(self.grade), past_grades=past))
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
        self.started_on: date | None = None
        self.cancellation_reason: str | None = None
        self.report_summary: str | None = None
        self.technical_reviewer: str | None = None
        self.review_comments: str | None = None
        self.decision: Decision | None = None
        self.past_decisions: tuple[Decision, ...] = ()
        self.reopen_reasons: tuple[str, ...] = ()
        self._assessments: dict[str, Assessment] = {}
        self._findings: dict[UUID, Finding] = {}
        self._involved: frozenset[str] = frozenset()

    # -- read-only helpers -------------------------------------------------

    @property
    def findings(self) -> Mapping[UUID, Finding]:
        """Every finding of the audit by id, in the order raised."""
        return MappingProxyType(self._findings)

    @property
    def assessments(self) -> Mapping[str, Assessment]:
        """The latest assessment of each clause, by clause id."""
        return MappingProxyType(self._assessments)

    def team_members(self) -> frozenset[str]:
        """Actor ids of everyone now on the team, whatever their role."""
        return self.team.members()

    def open_majors(self) -> list[Finding]:
        """Major nonconformities not yet verified effective, closed or dismissed."""
        return [
            f
            for f in self._findings.values()
            if f.grade is Grade.MAJOR_NONCONFORMITY and not f.is_resolved
        ]

    def minors_without_accepted_plan(self) -> list[Finding]:
        """Minor nonconformities whose client response is not (yet) accepted."""
        return [
            f
            for f in self._findings.values()
            if f.grade is Grade.MINOR_NONCONFORMITY
            and f.status
            in (FindingStatus.AWAITING_RESPONSE, FindingStatus.RESPONSE_SUBMITTED)
        ]

    # -- planning ----------------------------------------------------------

    @classmethod
    def plan(
        cls,
        meta: EventMeta,
        *,
        organization_id: UUID,
        site_ids: Iterable[UUID],
        standard_template_id: UUID,
        standard_version: int,
        standard_name: str,
        standard_edition: str,
        audit_type: AuditType | str,
        planned_start: date,
        planned_end: date,
        scope_statement: str,
    ) -> Audit:
        """Plan an audit of some sites of an organization against a standard.

        Raises:
            InvalidValueError: no site, planned end before planned start,
                blank scope statement, standard name or edition, version
                below 1, unknown audit type.
        """
        if standard_version < 1:
            raise InvalidValueError(
                "standard_version", "standard_version must be at least 1"
            )
        date_range(planned_start, planned_end, "planned_start", "planned_end")
        return cls._create(
            cls.Planned,
            id=uuid4(),
            meta=meta,
            organization_id=organization_id,
            site_ids=_sites(site_ids),
            standard_template_id=standard_template_id,
            standard_version=standard_version,
            standard_name=bounded_text(standard_name, "standard_name", NAME_MAX),
            standard_edition=bounded_text(
                standard_edition, "standard_edition", EDITION_MAX
            ),
            audit_type=parse_enum(AuditType, audit_type, "audit_type").value,
            planned_start=planned_start,
            planned_end=planned_end,
            scope_statement=bounded_text(scope_statement, "scope_statement", TEXT_MAX),
        )

    def change_details(
        self,
        meta: EventMeta,
        *,
        planned_start: date,
        planned_end: date,
        scope_statement: str,
        site_ids: Iterable[UUID],
    ) -> None:
        """Replace the planned dates, scope statement and sites.

        Raises:
            InvalidValueError: as for :meth:`plan`.
            RuleViolationError: the audit is no longer planned
                (``audit.invalid_transition``, ``audit.cancelled``,
                ``audit.closed``); nothing changes (``audit.details_unchanged``).
        """
        self._require("change_details", AuditStatus.PLANNED)
        date_range(planned_start, planned_end, "planned_start", "planned_end")
        sites = _sites(site_ids)
        scope = bounded_text(scope_statement, "scope_statement", TEXT_MAX)
        new = (planned_start, planned_end, scope, sites)
        old = (self.planned_start, self.planned_end, self.scope_statement)
        if new == (*old, self.site_ids):
            raise RuleViolationError(
                "audit.details_unchanged", f"audit {self.id} already has these details"
            )
        self.trigger_event(
            self.DetailsChanged,
            meta=meta,
            planned_start=planned_start,
            planned_end=planned_end,
            scope_statement=scope,
            site_ids=sites,
        )

    def assign_team(
        self,
        meta: EventMeta,
        lead_auditor: str | None,
        auditors: Iterable[str] = (),
        technical_experts: Iterable[str] = (),
        observers: Iterable[str] = (),
    ) -> None:
        """Assign the whole team (replacing the current one), by actor id.

        Raises:
            InvalidValueError: a blank actor id, or one person in two places.
            RuleViolationError: not planned nor in progress
                (``audit.invalid_transition`` …); a started audit left without
                lead auditor (``audit.no_lead_auditor``); the technical
                reviewer put on the team (``audit.reviewer_not_independent``);
                the same team (``audit.team_unchanged``).
        """
        self._require("assign_team", AuditStatus.PLANNED, *WORK)
        team = Team.of(lead_auditor, auditors, technical_experts, observers)
        if team.lead_auditor is None and self.status is not AuditStatus.PLANNED:
            raise RuleViolationError(
                "audit.no_lead_auditor",
                f"audit {self.id} has started and must keep a lead auditor",
            )
        if self.technical_reviewer in team.members():
            raise RuleViolationError(
                "audit.reviewer_not_independent",
                f"{self.technical_reviewer} is the technical reviewer of audit "
                f"{self.id} and cannot join its team",
            )
        if team == self.team:
            raise RuleViolationError(
                "audit.team_unchanged", f"audit {self.id} already has this team"
            )
        self.trigger_event(
            self.TeamAssigned,
            meta=meta,
            lead_auditor=team.lead_auditor,
            auditors=team.auditors,
            technical_experts=team.technical_experts,
            observers=team.observers,
        )

    def start(self, meta: EventMeta, on: date) -> None:
        """Start (schedule) the audit on ``on``.

        Planned dates are always present (``plan`` requires them), so the
        lead auditor is what remains to check.

        Raises:
            RuleViolationError: not planned (``audit.invalid_transition`` …);
                no lead auditor assigned (``audit.no_lead_auditor``).
        """
        self._require("start", AuditStatus.PLANNED)
        if self.team.lead_auditor is None:
            raise RuleViolationError(
                "audit.no_lead_auditor",
                f"audit {self.id} cannot be scheduled without a lead auditor",
            )
        self.trigger_event(self.Started, meta=meta, started_on=on)

    def cancel(self, meta: EventMeta, reason: str) -> None:
        """Cancel the audit; only before it starts.

        Raises:
            InvalidValueError: blank reason.
            RuleViolationError: the audit has started (``audit.invalid_transition``)
                or is cancelled already (``audit.cancelled``).
        """
        self._require("cancel", AuditStatus.PLANNED)
        text = bounded_text(reason, "reason", TEXT_MAX)
        self.trigger_event(self.Cancelled, meta=meta, reason=text)

    # -- audit work --------------------------------------------------------

    def assess_requirement(
        self,
        meta: EventMeta,
        clause_id: str,
        result: ClauseResult | str,
        notes: str | None = None,
        evidence_ids: Iterable[UUID] = (),
    ) -> None:
        """Record (or replace) the result for one clause of the standard.

        Raises:
            InvalidValueError: blank clause id, unknown result, over-long notes.
            RuleViolationError: the audit is not in progress.
        """
        self._require("assess_requirement", *WORK)
        self.trigger_event(
            self.RequirementAssessed,
            meta=meta,
            clause_id=bounded_text(clause_id, "clause_id", CLAUSE_MAX),
            result=parse_enum(ClauseResult, result, "result").value,
            notes=optional_text(notes, "notes", TEXT_MAX),
            evidence_ids=_uuids(evidence_ids),
        )

    def raise_finding(
        self,
        meta: EventMeta,
        clause_id: str,
        grade: Grade | str,
        description: str,
        objective_evidence: str,
        on: date,
        evidence_ids: Iterable[UUID] = (),
    ) -> UUID:
        """Raise a finding against a clause.

        Returns:
            The new finding's id.

        Raises:
            InvalidValueError: blank clause id, description or objective
                evidence, unknown grade.
            RuleViolationError: the audit is not in progress.
        """
        self._require("raise_finding", *WORK)
        finding_id = uuid4()
        self.trigger_event(
            self.FindingRaised,
            meta=meta,
            finding_id=finding_id,
            clause_id=bounded_text(clause_id, "clause_id", CLAUSE_MAX),
            grade=parse_enum(Grade, grade, "grade").value,
            description=bounded_text(description, "description", TEXT_MAX),
            objective_evidence=bounded_text(
                objective_evidence, "objective_evidence", TEXT_MAX
            ),
            evidence_ids=_uuids(evidence_ids),
            raised_on=on,
        )
        return finding_id

    def regrade_finding(
        self, meta: EventMeta, finding_id: UUID, grade: Grade | str, reason: str
    ) -> None:
        """Change an open finding's grade, keeping the old one in its history.

        Raises:
            InvalidValueError: unknown grade, blank reason.
            RuleViolationError: the audit is not in progress; unknown, closed
                or dismissed finding; the grade is the current one
                (``audit.grade_unchanged``).
        """
        self._require("regrade_finding", *WORK)
        finding = self._open_finding(finding_id, "regrade_finding")
        new_grade = parse_enum(Grade, grade, "grade")
        text = bounded_text(reason, "reason", TEXT_MAX)
        if new_grade is finding.grade:
            raise RuleViolationError(
                "audit.grade_unchanged",
                f"finding {finding_id} of audit {self.id} is already {new_grade}",
            )
        self.trigger_event(
            self.FindingRegraded,
            meta=meta,
            finding_id=finding_id,
            grade=new_grade.value,
            reason=text,
        )

    def dismiss_finding(self, meta: EventMeta, finding_id: UUID, reason: str) -> None:
        """Dismiss an open finding (raised in error).

        Raises:
            InvalidValueError: blank reason.
            RuleViolationError: the audit is not in progress; unknown, closed
                or dismissed finding.
        """
        self._require("dismiss_finding", *WORK)
        self._open_finding(finding_id, "dismiss_finding")
        text = bounded_text(reason, "reason", TEXT_MAX)
        self.trigger_event(
            self.FindingDismissed, meta=meta, finding_id=finding_id, reason=text
        )

    # -- corrective action (from the start until the audit closes) ---------

    def submit_response(
        self,
        meta: EventMeta,
        finding_id: UUID,
        root_cause: str,
        correction: str,
        corrective_action: str,
        due_date: date,
    ) -> None:
        """Record the client's response to a nonconformity.

        Raises:
            InvalidValueError: a blank text; due date before the finding was
                raised.
            RuleViolationError: the audit is planned, closed or cancelled;
                unknown finding, not a nonconformity, or not awaiting a
                response (``audit.invalid_finding_transition``).
        """
        self._require("submit_response", *FOLLOW_UP)
        finding = self._nonconformity(finding_id, "submit_response")
        self._check_finding(finding, "submit_response", FindingStatus.AWAITING_RESPONSE)
        date_range(finding.raised_on, due_date, "raised_on", "due_date")
        self.trigger_event(
            self.ResponseSubmitted,
            meta=meta,
            finding_id=finding_id,
            root_cause=bounded_text(root_cause, "root_cause", TEXT_MAX),
            correction=bounded_text(correction, "correction", TEXT_MAX),
            corrective_action=bounded_text(
                corrective_action, "corrective_action", TEXT_MAX
            ),
            due_date=due_date,
        )

    def accept_response(self, meta: EventMeta, finding_id: UUID) -> None:
        """Accept the client's submitted response.

        Raises:
            RuleViolationError: the audit is planned, closed or cancelled;
                unknown finding or no response awaiting review.
        """
        self._require("accept_response", *FOLLOW_UP)
        finding = self._finding(finding_id, "accept_response")
        self._check_finding(
            finding, "accept_response", FindingStatus.RESPONSE_SUBMITTED
        )
        self.trigger_event(self.ResponseAccepted, meta=meta, finding_id=finding_id)

    def reject_response(self, meta: EventMeta, finding_id: UUID, reason: str) -> None:
        """Reject the client's submitted response; a new one is then awaited.

        Raises:
            InvalidValueError: blank reason.
            RuleViolationError: as for :meth:`accept_response`.
        """
        self._require("reject_response", *FOLLOW_UP)
        finding = self._finding(finding_id, "reject_response")
        self._check_finding(
            finding, "reject_response", FindingStatus.RESPONSE_SUBMITTED
        )
        text = bounded_text(reason, "reason", TEXT_MAX)
        self.trigger_event(
            self.ResponseRejected, meta=meta, finding_id=finding_id, reason=text
        )

    def implement_corrective_action(
        self, meta: EventMeta, finding_id: UUID, on: date
    ) -> None:
        """Record that the accepted corrective action was implemented on ``on``.

        Raises:
            RuleViolationError: the audit is planned, closed or cancelled;
                unknown finding, not a nonconformity, or its response is not
                accepted.
        """
        self._require("implement_corrective_action", *FOLLOW_UP)
        finding = self._nonconformity(finding_id, "implement_corrective_action")
        self._check_finding(
            finding, "implement_corrective_action", FindingStatus.RESPONSE_ACCEPTED
        )
        self.trigger_event(
            self.CorrectiveActionImplemented,
            meta=meta,
            finding_id=finding_id,
            implemented_on=on,
        )

    def verify_effectiveness(
        self, meta: EventMeta, finding_id: UUID, verified_by: str, on: date
    ) -> None:
        """Record that auditor ``verified_by`` found the corrective action effective.

        Raises:
            InvalidValueError: blank ``verified_by``.
            RuleViolationError: the audit is planned, closed or cancelled;
                unknown finding, not a nonconformity, or action not implemented.
        """
        self._require("verify_effectiveness", *FOLLOW_UP)
        finding = self._nonconformity(finding_id, "verify_effectiveness")
        self._check_finding(
            finding, "verify_effectiveness", FindingStatus.ACTION_IMPLEMENTED
        )
        self.trigger_event(
            self.CorrectiveActionVerified,
            meta=meta,
            finding_id=finding_id,
            verified_by=actor_id(verified_by, "verified_by"),
            verified_on=on,
        )

    def close_finding(self, meta: EventMeta, finding_id: UUID) -> None:
        """Close a finding: a nonconformity once verified effective; an
        observation or opportunity for improvement at any time.

        Raises:
            RuleViolationError: the audit is planned, closed or cancelled;
                unknown finding, finished, or a nonconformity not verified.
        """
        self._require("close_finding", *FOLLOW_UP)
        finding = self._open_finding(finding_id, "close_finding")
        if finding.grade.is_nonconformity:
            self._check_finding(finding, "close_finding", FindingStatus.VERIFIED)
        self.trigger_event(self.FindingClosed, meta=meta, finding_id=finding_id)

    # -- report, review, decision ------------------------------------------

    def draft_report(self, meta: EventMeta, summary: str) -> None:
        """Draft (or redraft) the audit report.

        Raises:
            InvalidValueError: blank or over-long summary.
            RuleViolationError: the audit is not in progress.
        """
        self._require("draft_report", *WORK)
        text = bounded_text(summary, "summary", REPORT_MAX)
        self.trigger_event(self.ReportDrafted, meta=meta, summary=text)

    def submit_for_review(self, meta: EventMeta, technical_reviewer: str) -> None:
        """Submit the drafted report to ``technical_reviewer``.

        Raises:
            InvalidValueError: blank reviewer.
            RuleViolationError: no drafted report (``audit.invalid_transition``);
                the reviewer is on the team (``audit.reviewer_not_independent``).
        """
        self._require("submit_for_review", AuditStatus.REPORT_DRAFTED)
        reviewer = actor_id(technical_reviewer, "technical_reviewer")
        if reviewer in self.team_members():
            raise RuleViolationError(
                "audit.reviewer_not_independent",
                f"{reviewer} is on the team of audit {self.id} and cannot review it",
            )
        self.trigger_event(
            self.SubmittedForReview, meta=meta, technical_reviewer=reviewer
        )

    def approve_review(self, meta: EventMeta, comments: str | None = None) -> None:
        """Record the technical reviewer's approval.

        Raises:
            RuleViolationError: the audit is not under review.
        """
        self._require("approve_review", AuditStatus.UNDER_REVIEW)
        text = optional_text(comments, "comments", TEXT_MAX)
        self.trigger_event(self.ReviewApproved, meta=meta, comments=text)

    def return_for_rework(self, meta: EventMeta, comments: str) -> None:
        """Send the audit back to the team, in progress, with the comments.

        Raises:
            InvalidValueError: blank comments.
            RuleViolationError: the audit is not under review.
        """
        self._require("return_for_rework", AuditStatus.UNDER_REVIEW)
        text = bounded_text(comments, "comments", TEXT_MAX)
        self.trigger_event(self.ReturnedForRework, meta=meta, comments=text)

    def record_decision(
        self,
        meta: EventMeta,
        decided_by: str,
        outcome: DecisionOutcome | str,
        reasons: str,
        on: date,
    ) -> None:
        """Record the certification decision taken by ``decided_by`` on ``on``.

        Raises:
            InvalidValueError: blank decider or reasons, unknown outcome.
            RuleViolationError: review not approved (``audit.invalid_transition``);
                the decider took part in the audit
                (``audit.decision_maker_not_independent``); a grant while a
                major is unverified (``audit.unverified_major_nonconformity``)
                or a minor has no accepted plan
                (``audit.minor_without_accepted_plan``).
        """
        self._require("record_decision", AuditStatus.REVIEW_APPROVED)
        decider = actor_id(decided_by, "decided_by")
        result = parse_enum(DecisionOutcome, outcome, "outcome")
        text = bounded_text(reasons, "reasons", TEXT_MAX)
        if decider in self._involved:
            raise RuleViolationError(
                "audit.decision_maker_not_independent",
                f"{decider} took part in audit {self.id} (team, technical review "
                "or verification) and cannot take its certification decision",
            )
        if result is DecisionOutcome.GRANT:
            self._check_no_open_major("grant certification")
            if pending := self.minors_without_accepted_plan():
                raise RuleViolationError(
                    "audit.minor_without_accepted_plan",
                    f"audit {self.id} cannot grant certification: minor "
                    f"nonconformities {_ids(pending)} have no accepted response",
                )
        self.trigger_event(
            self.DecisionRecorded,
            meta=meta,
            outcome=result.value,
            reasons=text,
            decided_by=decider,
            decided_on=on,
        )

    def close(self, meta: EventMeta) -> None:
        """Close the decided audit; it is read-only afterwards.

        Raises:
            RuleViolationError: no decision yet (``audit.invalid_transition``);
                a major not verified (``audit.unverified_major_nonconformity``).
        """
        self._require("close", AuditStatus.DECIDED)
        self._check_no_open_major("close")
        self.trigger_event(self.Closed, meta=meta)

    def reopen(self, meta: EventMeta, reason: str) -> None:
        """Reopen a closed audit (the caller's privilege is checked elsewhere).

        The audit returns to ``in_progress``; its decision moves to
        ``past_decisions``, so review and decision are taken again.

        Raises:
            InvalidValueError: blank reason.
            RuleViolationError: the audit is not closed.
        """
        self._require("reopen", AuditStatus.CLOSED)
        text = bounded_text(reason, "reason", TEXT_MAX)
        self.trigger_event(self.Reopened, meta=meta, reason=text)

    # -- internals ---------------------------------------------------------

    def _require(self, command: str, *allowed: AuditStatus) -> None:
        if self.status is AuditStatus.CANCELLED:
            raise RuleViolationError(
                "audit.cancelled", f"audit {self.id} is cancelled: cannot {command}"
            )
        if self.status is AuditStatus.CLOSED and command != "reopen":
            raise RuleViolationError(
                "audit.closed",
                f"audit {self.id} is closed: cannot {command} (only reopen)",
            )
        if self.status not in allowed:
            raise RuleViolationError(
                "audit.invalid_transition",
                f"audit {self.id} is {self.status.value}: cannot {command}",
            )

    def _finding(self, finding_id: UUID, command: str) -> Finding:
        finding = self._findings.get(finding_id)
        if finding is None:
            raise RuleViolationError(
                "audit.unknown_finding",
                f"audit {self.id} has no finding {finding_id} to {command}",
            )
        return finding

    def _open_finding(self, finding_id: UUID, command: str) -> Finding:
        finding = self._finding(finding_id, command)
        if finding.status in FINISHED:
            raise RuleViolationError(
                "audit.invalid_finding_transition",
                f"finding {finding_id} of audit {self.id} is "
                f"{finding.status.value}: cannot {command}",
            )
        return finding

    def _nonconformity(self, finding_id: UUID, command: str) -> Finding:
        finding = self._finding(finding_id, command)
        if not finding.grade.is_nonconformity:
            raise RuleViolationError(
                "audit.not_a_nonconformity",
                f"finding {finding_id} of audit {self.id} is an {finding.grade.value}"
                f" and needs no corrective action: cannot {command}",
            )
        return finding

    def _check_finding(
        self, finding: Finding, command: str, *allowed: FindingStatus
    ) -> None:
        if finding.status not in allowed:
            raise RuleViolationError(
                "audit.invalid_finding_transition",
                f"finding {finding.id} of audit {self.id} is "
                f"{finding.status.value}: cannot {command}",
            )

    def _check_no_open_major(self, command: str) -> None:
        if majors := self.open_majors():
            raise RuleViolationError(
                "audit.unverified_major_nonconformity",
                f"audit {self.id} cannot {command}: major nonconformities "
                f"{_ids(majors)} are not verified effective",
            )

    def _put(self, finding: Finding) -> None:
        """Called by ``apply`` only: store the new state of one finding."""
        self._findings = {**self._findings, finding.id: finding}

    def _outdate_draft(self) -> None:
        """Called by ``apply`` only: audit work after drafting needs a redraft."""
        if self.status is AuditStatus.REPORT_DRAFTED:
            self.status = AuditStatus.IN_PROGRESS


def _sites(site_ids: Iterable[UUID]) -> tuple[UUID, ...]:
    sites = tuple(site_ids)
    if not sites:
        raise InvalidValueError("site_ids", "an audit covers at least one site")
    if len(set(sites)) != len(sites):
        raise InvalidValueError("site_ids", "site_ids must not repeat a site")
    return sites


def _ids(findings: list[Finding]) -> str:
    return ", ".join(str(f.id) for f in findings)
