"""Audit lifecycle under random commands: the invariants hold after every step.

Refused commands are part of the game: each rule swallows the domain's
refusal and then checks that it left no trace (no event, no state change).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast
from uuid import UUID, uuid4

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from domain.audit import Audit
from domain.audit_values import (
    FINISHED,
    AuditStatus,
    DecisionOutcome,
    Finding,
    Grade,
)
from domain.audit_values import FindingStatus as S
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
DAY0 = date(2025, 1, 1)
PEOPLE = ("ann", "bob", "cyd", "dev", "eve", "fin")
"""Few actors, so that the same person often turns up in two roles."""

people = st.sampled_from(PEOPLE)
deciders = st.sampled_from((*PEOPLE, "zoe", "yan"))
"""Actors who may or may not have taken part in the audit."""
crew = st.lists(people, max_size=2).map(tuple)
days = st.integers(-3, 40).map(lambda n: DAY0 + timedelta(days=n))
texts = st.sampled_from(("", "  ", "Because", "Calibration records missing"))
grades = st.sampled_from(Grade)
picks = st.integers(0, 3)
"""Index of a finding to act on; past the last one means an unknown id."""
FINDING_STEPS = [
    "respond",
    "accept",
    "reject",
    "implement",
    "verify",
    "close",
    "dismiss",
    "regrade",
]


def state_of(audit: Audit) -> dict[str, object]:
    """A copy of the audit's state (its values are immutable but for dicts)."""
    return {
        name: dict(value) if isinstance(value, dict) else value
        for name, value in vars(audit).items()
        if name != "_pending_events"
    }


class AuditLifecycle(RuleBasedStateMachine):
    """One audit driven by random commands, with a record of its events."""

    def __init__(self) -> None:
        super().__init__()
        self._audit: Audit | None = None
        self.recorded: list = []
        self.ever_started = False

    # -- plumbing ------------------------------------------------------------

    @property
    def audit(self) -> Audit:
        assert self._audit is not None, "planned by the initialize rule"
        return self._audit

    def attempt(self, command, *args, actor: str | None = None, **kwargs) -> bool:
        """Run a command; a refusal must leave version, events and state as
        they were."""
        audit = self.audit
        version, pending, state = (
            audit.version,
            len(audit.pending_events),
            state_of(audit),
        )
        try:
            meta = META if actor is None else EventMeta("tenant-a", actor, "r", "r")
            command(meta, *args, **kwargs)
        except (RuleViolationError, InvalidValueError):
            assert (audit.version, len(audit.pending_events)) == (version, pending)
            assert state_of(audit) == state
            return False
        assert len(audit.pending_events) == pending + 1
        self.recorded.extend(audit.collect_events())
        return True

    def finding(self, pick: int) -> UUID:
        ids = list(self.audit.findings)
        return ids[pick] if pick < len(ids) else uuid4()

    # -- planning ------------------------------------------------------------

    @initialize(
        start=days,
        length=st.integers(-1, 5),
        sites=st.integers(0, 3),
        scope=st.sampled_from(("Pumps", "Valves", " ")),
    )
    def plan(self, start, length, sites, scope):
        """Plan with random values; when they are refused, for the right
        reason, plan again with valid ones."""
        details = {
            "organization_id": uuid4(),
            "standard_template_id": uuid4(),
            "standard_version": 1,
            "standard_name": "ISO 9001",
            "standard_edition": "2015",
            "audit_type": "surveillance",
            "planned_start": start,
        }
        try:
            self._audit = Audit.plan(
                META,
                site_ids=[uuid4() for _ in range(sites)],
                planned_end=start + timedelta(days=length),
                scope_statement=scope,
                **details,
            )
        except InvalidValueError:
            assert length < 0 or sites == 0 or not scope.strip()
            self._audit = Audit.plan(
                META,
                site_ids=[uuid4()],
                planned_end=start,
                scope_statement="Pumps",
                **details,
            )
        else:
            assert length >= 0
            assert sites > 0
            assert scope.strip()
        self.recorded.extend(self.audit.collect_events())

    @rule(start=days, length=st.integers(-1, 3), scope=texts)
    def change_details(self, start, length, scope):
        self.attempt(
            self.audit.change_details,
            planned_start=start,
            planned_end=start + timedelta(days=length),
            scope_statement=scope,
            site_ids=self.audit.site_ids,
        )

    @rule(lead=st.none() | people, auditors=crew, experts=crew, observers=crew)
    def assign_team(self, lead, auditors, experts, observers):
        self.attempt(self.audit.assign_team, lead, auditors, experts, observers)

    @rule(on=days)
    def start(self, on):
        if self.attempt(self.audit.start, on):
            self.ever_started = True

    @rule(reason=texts)
    def cancel(self, reason):
        self.attempt(self.audit.cancel, reason)

    # -- findings ------------------------------------------------------------

    @rule(grade=grades, on=days)
    def raise_finding(self, grade, on):
        self.attempt(self.audit.raise_finding, "8.5", grade, "Gap", "Record", on)

    @rule(
        step=st.sampled_from(FINDING_STEPS),
        pick=picks,
        on=days,
        by=people,
        grade=grades,
        text=texts,
    )
    def finding_step(self, step, pick, on, by, grade, text):
        audit, finding_id = self.audit, self.finding(pick)
        commands = {
            "respond": (audit.submit_response, finding_id, text, "Fix", "CA", on),
            "accept": (audit.accept_response, finding_id),
            "reject": (audit.reject_response, finding_id, text),
            "implement": (audit.implement_corrective_action, finding_id, on),
            "verify": (audit.verify_effectiveness, finding_id, by, on),
            "close": (audit.close_finding, finding_id),
            "dismiss": (audit.dismiss_finding, finding_id, text),
            "regrade": (audit.regrade_finding, finding_id, grade, text),
        }
        command, *args = commands[step]
        self.attempt(command, *args)

    # -- report, review, decision ----------------------------------------------

    @rule(summary=texts)
    def draft_report(self, summary):
        self.attempt(self.audit.draft_report, summary)

    @rule(reviewer=people)
    def submit_for_review(self, reviewer):
        self.attempt(self.audit.submit_for_review, reviewer)

    @rule(approve=st.booleans(), comments=texts, by=people)
    def review(self, approve, comments, by):
        if approve:
            self.attempt(self.audit.approve_review, comments, actor=by)
        else:
            self.attempt(self.audit.return_for_rework, comments, actor=by)

    @rule(by=deciders, outcome=st.sampled_from(DecisionOutcome), on=days)
    def record_decision(self, by, outcome, on):
        self.attempt(self.audit.record_decision, by, outcome, "Reasons", on)

    @rule()
    def close(self):
        self.attempt(self.audit.close)

    @rule(reason=texts)
    def reopen(self, reason):
        self.attempt(self.audit.reopen, reason)

    @rule(
        who=st.tuples(people, people, deciders),
        steps=st.integers(1, 20),
        grade=st.sampled_from((None, *Grade)),
        fix=st.booleans(),
        outcome=st.sampled_from(DecisionOutcome),
    )
    def step_forward(self, who, steps, grade, fix, outcome):
        """Take a few steps along the lifecycle (raising a finding of
        ``grade`` on the way, fixing findings first or not), so runs get far
        enough to review, decide, close and reopen: random commands alone
        rarely do. ``who`` is the lead auditor, reviewer and decider to name."""
        for _ in range(steps):
            self.next_step(who, grade, fix, outcome)

    def next_step(self, who, grade, fix, outcome) -> None:
        audit = self.audit
        lead, reviewer, decider = who
        if fix:
            for finding in audit.findings.values():
                if finding.status not in FINISHED and self.advance(finding, lead):
                    return
        status = audit.status
        if status is AuditStatus.PLANNED and audit.team.lead_auditor is None:
            self.attempt(audit.assign_team, lead)
        elif status is AuditStatus.PLANNED:
            self.ever_started |= self.attempt(audit.start, DAY0)
        elif status is AuditStatus.IN_PROGRESS and grade and len(audit.findings) < 3:
            self.attempt(audit.raise_finding, "7.1", grade, "Gap", "Record", DAY0)
        elif status is AuditStatus.IN_PROGRESS:
            self.attempt(audit.draft_report, "Report")
        elif status is AuditStatus.REPORT_DRAFTED:
            self.attempt(audit.submit_for_review, reviewer)
        elif status is AuditStatus.UNDER_REVIEW:
            self.attempt(audit.approve_review, None, actor=reviewer)
        elif status is AuditStatus.REVIEW_APPROVED:
            for result in (outcome, DecisionOutcome.REFUSE):  # refuse if grant fails
                if self.attempt(audit.record_decision, decider, result, "Why", DAY0):
                    break
        elif status is AuditStatus.DECIDED:
            self.attempt(audit.close)
        elif status is AuditStatus.CLOSED:
            self.attempt(audit.reopen, "Correction")

    def advance(self, finding: Finding, who: str) -> bool:
        """The next corrective-action step of ``finding``, if one applies."""
        audit = self.audit
        if not finding.grade.is_nonconformity or finding.status is S.VERIFIED:
            return self.attempt(audit.close_finding, finding.id)
        if finding.status is S.AWAITING_RESPONSE:
            return self.attempt(
                audit.submit_response, finding.id, "Cause", "Fix", "CA", DAY0
            )
        if finding.status is S.RESPONSE_SUBMITTED:
            return self.attempt(audit.accept_response, finding.id)
        if finding.status is S.RESPONSE_ACCEPTED:
            return self.attempt(audit.implement_corrective_action, finding.id, DAY0)
        return self.attempt(audit.verify_effectiveness, finding.id, who, DAY0)

    # -- invariants ----------------------------------------------------------

    @invariant()
    def version_counts_the_events(self):
        assert self.audit.version == len(self.recorded)
        assert [e.originator_version for e in self.recorded] == list(
            range(1, len(self.recorded) + 1)
        )

    @invariant()
    def a_closed_audit_has_no_unverified_major(self):
        if self.audit.status is AuditStatus.CLOSED:
            assert self.audit.open_majors() == []

    @invariant()
    def a_cancelled_audit_never_started(self):
        if self.audit.status is AuditStatus.CANCELLED:
            assert not self.ever_started
            assert self.audit.started_on is None

    @invariant()
    def the_decision_maker_is_independent(self):
        if self.audit.decision is not None:
            decided_by = self.audit.decision.decided_by
            assert decided_by not in self.audit.team_members()
            assert decided_by != self.audit.technical_reviewer

    @invariant()
    def only_the_named_reviewer_reviews(self):
        reviewer = None
        for event in self.recorded:
            if isinstance(event, Audit.SubmittedForReview):
                reviewer = event.technical_reviewer
            elif isinstance(event, Audit.ReviewApproved | Audit.ReturnedForRework):
                assert event.meta.actor_id == reviewer

    @invariant()
    def a_granted_audit_has_no_unverified_major(self):
        decision = self.audit.decision
        if decision is not None and decision.outcome is DecisionOutcome.GRANT:
            assert self.audit.open_majors() == []

    def teardown(self):
        """The recorded events, stored and replayed, rebuild the same audit."""
        if self._audit is None:
            return
        store = LibraryEventStore(in_memory_env())
        mapper = store.app.mapper
        try:
            rebuilt = None
            for event in self.recorded:
                stored = mapper.to_stored_event(event)
                rebuilt = cast(Audit.Event, mapper.to_domain_event(stored)).mutate(
                    rebuilt
                )
            assert rebuilt == self.audit
        finally:
            store.close()


TestAuditLifecycle = AuditLifecycle.TestCase
TestAuditLifecycle.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
