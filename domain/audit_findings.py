"""Audit-work and corrective-action commands of the audit aggregate.

The audit work (while in progress): assess a clause, raise, regrade or
dismiss a finding. The corrective action (from the start until the audit
closes): the client's response, its implementation, verification and the
finding's closing. Mixed into :class:`domain.audit.Audit`, which defines the
events triggered here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID, uuid4

from domain.audit_state import AuditState
from domain.audit_values import (
    CLAUSE_MAX,
    FOLLOW_UP,
    TEXT_MAX,
    WORK,
    ClauseResult,
    FindingStatus,
    Grade,
    actor_id,
    distinct_ids,
    parse_enum,
)
from domain.errors import RuleViolationError
from domain.events import EventMeta
from domain.values import bounded_text, date_range, optional_text

if TYPE_CHECKING:
    from domain.audit import Audit


class FindingCommands(AuditState):
    """Commands on clause assessments, findings and their corrective actions."""

    if TYPE_CHECKING:
        # The events, defined on Audit (domain.audit) so that their
        # topics stay domain.audit:Audit.<Name>; declared for mypy only.
        RequirementAssessed: ClassVar[type[Audit.RequirementAssessed]]
        FindingRaised: ClassVar[type[Audit.FindingRaised]]
        FindingRegraded: ClassVar[type[Audit.FindingRegraded]]
        FindingDismissed: ClassVar[type[Audit.FindingDismissed]]
        ResponseSubmitted: ClassVar[type[Audit.ResponseSubmitted]]
        ResponseAccepted: ClassVar[type[Audit.ResponseAccepted]]
        ResponseRejected: ClassVar[type[Audit.ResponseRejected]]
        CorrectiveActionImplemented: ClassVar[type[Audit.CorrectiveActionImplemented]]
        CorrectiveActionVerified: ClassVar[type[Audit.CorrectiveActionVerified]]
        FindingClosed: ClassVar[type[Audit.FindingClosed]]

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
            notes=optional_text(notes, "notes", TEXT_MAX, multiline=True),
            evidence_ids=distinct_ids(evidence_ids),
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
            description=bounded_text(
                description, "description", TEXT_MAX, multiline=True
            ),
            objective_evidence=bounded_text(
                objective_evidence, "objective_evidence", TEXT_MAX, multiline=True
            ),
            evidence_ids=distinct_ids(evidence_ids),
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
        text = bounded_text(reason, "reason", TEXT_MAX, multiline=True)
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
        text = bounded_text(reason, "reason", TEXT_MAX, multiline=True)
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
            root_cause=bounded_text(root_cause, "root_cause", TEXT_MAX, multiline=True),
            correction=bounded_text(correction, "correction", TEXT_MAX, multiline=True),
            corrective_action=bounded_text(
                corrective_action, "corrective_action", TEXT_MAX, multiline=True
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
        text = bounded_text(reason, "reason", TEXT_MAX, multiline=True)
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
