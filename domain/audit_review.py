"""Report, review and decision commands of the audit aggregate.

Draft the report, submit it for technical review, approve it or return it
for rework, record the certification decision, close and reopen. Mixed into
:class:`domain.audit.Audit`, which defines the events triggered here.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar

from domain.audit_state import AuditState
from domain.audit_values import (
    REPORT_MAX,
    TEXT_MAX,
    WORK,
    AuditStatus,
    DecisionOutcome,
    actor_id,
    finding_ids,
    parse_enum,
)
from domain.errors import RuleViolationError
from domain.events import EventMeta
from domain.values import bounded_text, optional_text

if TYPE_CHECKING:
    from domain.audit import Audit


class ReviewCommands(AuditState):
    """Commands from the drafted report to the closed (or reopened) audit."""

    if TYPE_CHECKING:
        # The events, defined on Audit (domain.audit) so that their
        # topics stay domain.audit:Audit.<Name>; declared for mypy only.
        ReportDrafted: ClassVar[type[Audit.ReportDrafted]]
        SubmittedForReview: ClassVar[type[Audit.SubmittedForReview]]
        ReviewApproved: ClassVar[type[Audit.ReviewApproved]]
        ReturnedForRework: ClassVar[type[Audit.ReturnedForRework]]
        DecisionRecorded: ClassVar[type[Audit.DecisionRecorded]]
        Closed: ClassVar[type[Audit.Closed]]
        Reopened: ClassVar[type[Audit.Reopened]]

    def draft_report(self, meta: EventMeta, summary: str) -> None:
        """Draft (or redraft) the audit report.

        Raises:
            InvalidValueError: blank or over-long summary.
            RuleViolationError: the audit is not in progress.
        """
        self._require("draft_report", *WORK)
        text = bounded_text(summary, "summary", REPORT_MAX, multiline=True)
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
            RuleViolationError: the audit is not under review; the caller is
                not the reviewer it was submitted to
                (``audit.not_the_technical_reviewer``).
        """
        self._require("approve_review", AuditStatus.UNDER_REVIEW)
        self._check_reviewer(meta)
        text = optional_text(comments, "comments", TEXT_MAX, multiline=True)
        self.trigger_event(self.ReviewApproved, meta=meta, comments=text)

    def return_for_rework(self, meta: EventMeta, comments: str) -> None:
        """Send the audit back to the team, in progress, with the comments.

        Raises:
            InvalidValueError: blank comments.
            RuleViolationError: the audit is not under review; the caller is
                not the reviewer it was submitted to
                (``audit.not_the_technical_reviewer``).
        """
        self._require("return_for_rework", AuditStatus.UNDER_REVIEW)
        self._check_reviewer(meta)
        text = bounded_text(comments, "comments", TEXT_MAX, multiline=True)
        self.trigger_event(self.ReturnedForRework, meta=meta, comments=text)

    def _check_reviewer(self, meta: EventMeta) -> None:
        """Only the technical reviewer named at submission reviews the audit."""
        if meta.actor_id != self.technical_reviewer:
            raise RuleViolationError(
                "audit.not_the_technical_reviewer",
                f"audit {self.id} was submitted to {self.technical_reviewer} for "
                f"technical review; {meta.actor_id} cannot review it",
            )

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
        text = bounded_text(reasons, "reasons", TEXT_MAX, multiline=True)
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
                    f"nonconformities {finding_ids(pending)} have no accepted response",
                )
        self.trigger_event(
            self.DecisionRecorded,
            meta=meta,
            outcome=result.value,
            reasons=text,
            decided_by=decider,
            decided_on=on,
            audit_version=self.version,
            template_version=self.standard_version,
            finding_versions={str(f.id): f.version for f in self.findings.values()},
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
        text = bounded_text(reason, "reason", TEXT_MAX, multiline=True)
        self.trigger_event(self.Reopened, meta=meta, reason=text)
