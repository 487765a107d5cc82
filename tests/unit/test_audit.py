"""Audit aggregate: given events, when a command, then events or an error."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from domain.audit import Audit
from domain.audit_values import (
    AuditStatus,
    AuditType,
    ClauseResult,
    DecisionOutcome,
    FindingStatus,
    Grade,
    PastGrade,
)
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
ORG = uuid4()
SITE = uuid4()
TEMPLATE = uuid4()
START = date(2025, 3, 10)
END = date(2025, 3, 12)
MAJOR = Grade.MAJOR_NONCONFORMITY
MINOR = Grade.MINOR_NONCONFORMITY

LEAD, AUDITOR, EXPERT, OBSERVER = "lena", "arun", "ezra", "olga"
REVIEWER, DECIDER = "rita", "dmitri"
AS_REVIEWER = EventMeta("tenant-a", REVIEWER, "req-1", "req-1")


def plan(**changes):
    values = {
        "organization_id": ORG,
        "site_ids": (SITE,),
        "standard_template_id": TEMPLATE,
        "standard_version": 3,
        "standard_name": "ISO 9001",
        "standard_edition": "2015",
        "audit_type": "stage_2",
        "planned_start": START,
        "planned_end": END,
        "scope_statement": "Design and manufacture of pumps",
    }
    return Audit.plan(META, **{**values, **changes})


def planned() -> Audit:
    audit = plan()
    audit.assign_team(META, LEAD, (AUDITOR,), (EXPERT,), (OBSERVER,))
    audit.collect_events()
    return audit


def started() -> Audit:
    audit = planned()
    audit.start(META, START)
    audit.collect_events()
    return audit


def submitted(audit: Audit) -> Audit:
    audit.draft_report(META, "All good")
    audit.submit_for_review(META, REVIEWER)
    return audit


def approved(audit: Audit | None = None) -> Audit:
    audit = submitted(audit or started())
    audit.approve_review(AS_REVIEWER)
    audit.collect_events()
    return audit


def decided(audit: Audit | None = None, outcome: str = "grant") -> Audit:
    audit = approved(audit)
    audit.record_decision(META, DECIDER, outcome, "Meets the standard", END)
    audit.collect_events()
    return audit


def closed() -> Audit:
    audit = decided()
    audit.close(META)
    audit.collect_events()
    return audit


def raise_nc(audit: Audit, grade: Grade = MAJOR) -> UUID:
    return audit.raise_finding(
        META, "8.5.1", grade, "No calibration", "Gauge G-12 overdue", START
    )


def respond(audit: Audit, finding_id, due: date = END + timedelta(days=30)) -> None:
    audit.submit_response(
        META, finding_id, "No schedule", "Calibrated G-12", "Schedule all", due
    )


def resolve(audit: Audit, finding_id) -> None:
    respond(audit, finding_id)
    audit.accept_response(META, finding_id)
    audit.implement_corrective_action(META, finding_id, END)
    audit.verify_effectiveness(META, finding_id, LEAD, END)


def refused(rule: str, command, *args, **kwargs) -> RuleViolationError:
    """Run ``command`` expecting ``rule``; check nothing was recorded."""
    audit = command.__self__
    version, pending = audit.version, len(audit.pending_events)
    with pytest.raises(RuleViolationError) as raised:
        command(*args, **kwargs)
    assert raised.value.rule == rule
    assert (audit.version, len(audit.pending_events)) == (version, pending)
    return raised.value


# -- planning ------------------------------------------------------------------


def test_plan_records_the_audit_and_normalised_texts():
    audit = plan(standard_name="  ISO   9001 ", site_ids=[SITE])

    [event] = audit.collect_events()
    assert isinstance(event, Audit.Planned)
    assert (event.standard_name, event.site_ids, event.audit_type) == (
        "ISO 9001",
        (SITE,),
        "stage_2",
    )
    assert (audit.tenant_id, audit.organization_id, audit.version) == (
        "tenant-a",
        ORG,
        1,
    )
    assert (audit.status, audit.audit_type) == (AuditStatus.PLANNED, AuditType.STAGE_2)
    assert (audit.standard_name, audit.standard_edition) == ("ISO 9001", "2015")
    assert audit.findings == {}
    assert audit.decision is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"planned_end": START - timedelta(days=1)}, "planned_end"),
        ({"site_ids": ()}, "site_ids"),
        ({"site_ids": (SITE, SITE)}, "site_ids"),
        ({"scope_statement": "  \n "}, "scope_statement"),
        ({"standard_name": ""}, "standard_name"),
        ({"standard_version": 0}, "standard_version"),
        ({"audit_type": "annual"}, "audit_type"),
    ],
)
def test_plan_refuses_invalid_values_naming_the_field(changes, field):
    with pytest.raises(InvalidValueError) as raised:
        plan(**changes)
    assert raised.value.field == field


def test_planned_details_can_change_while_planned():
    audit = planned()
    other_site = uuid4()
    audit.change_details(
        META,
        planned_start=END,
        planned_end=END,
        scope_statement="Pumps",
        site_ids=(SITE, other_site),
    )

    [event] = audit.collect_events()
    assert isinstance(event, Audit.DetailsChanged)
    assert (audit.planned_start, audit.scope_statement) == (END, "Pumps")
    assert audit.site_ids == (SITE, other_site)


def test_changing_details_to_the_same_values_is_refused():
    audit = planned()
    refused(
        "audit.details_unchanged",
        audit.change_details,
        META,
        planned_start=START,
        planned_end=END,
        scope_statement=" Design and manufacture of pumps",
        site_ids=(SITE,),
    )


def test_changing_details_checks_the_dates():
    with pytest.raises(InvalidValueError) as raised:
        planned().change_details(
            META,
            planned_start=END,
            planned_end=START,
            scope_statement="Pumps",
            site_ids=(SITE,),
        )
    assert raised.value.field == "planned_end"


def test_details_cannot_change_once_started():
    audit = started()
    error = refused(
        "audit.invalid_transition",
        audit.change_details,
        META,
        planned_start=START,
        planned_end=END,
        scope_statement="Other",
        site_ids=(SITE,),
    )
    assert "in_progress" in error.detail
    assert "change_details" in error.detail


# -- team and start --------------------------------------------------------------


def test_team_members_are_everyone_on_the_team():
    assert planned().team_members() == {LEAD, AUDITOR, EXPERT, OBSERVER}


def test_a_person_cannot_hold_two_places_in_the_team():
    with pytest.raises(InvalidValueError) as raised:
        plan().assign_team(META, LEAD, (AUDITOR,), (), (LEAD,))
    assert raised.value.field == "team"


def test_assigning_the_same_team_is_refused():
    audit = planned()
    refused(
        "audit.team_unchanged",
        audit.assign_team,
        META,
        LEAD,
        (AUDITOR,),
        (EXPERT,),
        (OBSERVER,),
    )


def test_an_audit_cannot_start_without_a_lead_auditor():
    audit = plan()
    audit.assign_team(META, None, (AUDITOR,))
    audit.collect_events()

    refused("audit.no_lead_auditor", audit.start, META, START)
    assert audit.status is AuditStatus.PLANNED


def test_start_records_the_date_and_puts_the_audit_in_progress():
    audit = planned()
    audit.start(META, START)

    [event] = audit.collect_events()
    assert isinstance(event, Audit.Started)
    assert (audit.status, audit.started_on) == (AuditStatus.IN_PROGRESS, START)


def test_a_started_audit_must_keep_its_lead_auditor():
    audit = started()
    refused("audit.no_lead_auditor", audit.assign_team, META, None, (AUDITOR,))


def test_the_team_can_change_during_the_audit():
    audit = started()
    audit.assign_team(META, AUDITOR, (LEAD,))
    assert audit.team.lead_auditor == AUDITOR
    assert audit.team_members() == {LEAD, AUDITOR}


# -- cancelling, closing, the state machine ----------------------------------------


def test_a_planned_audit_can_be_cancelled_and_then_accepts_nothing():
    audit = planned()
    audit.cancel(META, "Client postponed")
    assert (audit.status, audit.cancellation_reason) == (
        AuditStatus.CANCELLED,
        "Client postponed",
    )

    refused("audit.cancelled", audit.start, META, START)
    refused("audit.cancelled", audit.cancel, META, "again")
    refused("audit.cancelled", audit.reopen, META, "mistake")
    refused("audit.cancelled", audit.assign_team, META, AUDITOR)


def test_a_started_audit_cannot_be_cancelled():
    audit = started()
    error = refused("audit.invalid_transition", audit.cancel, META, "Too late")
    assert "in_progress" in error.detail
    assert "cancel" in error.detail


@pytest.mark.parametrize(
    ("status_of", "command"),
    [
        (plan, lambda a: a.draft_report(META, "x")),
        (started, lambda a: a.submit_for_review(META, REVIEWER)),
        (started, lambda a: a.approve_review(AS_REVIEWER)),
        (started, lambda a: a.close(META)),
        (started, lambda a: a.record_decision(META, DECIDER, "grant", "ok", END)),
        (approved, lambda a: a.raise_finding(META, "4.1", MINOR, "d", "e", END)),
        (approved, lambda a: a.start(META, END)),
        (decided, lambda a: a.reopen(META, "why")),
    ],
)
def test_commands_out_of_order_are_invalid_transitions(status_of, command):
    audit = status_of()
    audit.collect_events()
    with pytest.raises(RuleViolationError) as raised:
        command(audit)
    assert raised.value.rule == "audit.invalid_transition"
    assert audit.status.value in raised.value.detail
    assert audit.collect_events() == []


@pytest.mark.parametrize(
    "command",
    [
        lambda a, f: a.assign_team(META, AUDITOR),
        lambda a, f: a.assess_requirement(META, "4.1", "conforming"),
        lambda a, f: a.raise_finding(META, "4.1", MINOR, "d", "e", END),
        lambda a, f: a.submit_response(META, f, "r", "c", "a", END),
        lambda a, f: a.close_finding(META, f),
        lambda a, f: a.record_decision(META, "zed", "refuse", "no", END),
        lambda a, f: a.close(META),
        lambda a, f: a.cancel(META, "no"),
    ],
)
def test_a_closed_audit_accepts_no_change_but_reopen(command):
    audit = started()
    finding_id = audit.raise_finding(META, "4.1", Grade.OBSERVATION, "d", "e", END)
    audit = decided(audit)
    audit.close(META)
    audit.collect_events()

    with pytest.raises(RuleViolationError) as raised:
        command(audit, finding_id)
    assert raised.value.rule == "audit.closed"
    assert audit.collect_events() == []


def test_reopening_a_closed_audit_puts_it_back_in_progress_without_decision():
    audit = closed()
    first_decision = audit.decision
    audit.reopen(META, "Appeal upheld")

    [event] = audit.collect_events()
    assert isinstance(event, Audit.Reopened)
    assert (audit.status, audit.decision) == (AuditStatus.IN_PROGRESS, None)
    assert audit.past_decisions == (first_decision,)
    assert audit.reopen_reasons == ("Appeal upheld",)
    audit.raise_finding(META, "7.2", MINOR, "Late finding", "Record R-9", END)


# -- requirements and findings while in progress -----------------------------------


def test_assessing_a_clause_records_the_latest_result():
    audit = started()
    evidence = uuid4()
    audit.assess_requirement(META, "7.1", "nonconforming", "Gaps", (evidence,))
    audit.assess_requirement(META, "7.1", ClauseResult.CONFORMING)

    assessment = audit.assessments["7.1"]
    assert (assessment.result, assessment.notes) == (ClauseResult.CONFORMING, None)
    assert len(audit.collect_events()) == 2


def test_assessing_needs_a_known_result():
    with pytest.raises(InvalidValueError) as raised:
        started().assess_requirement(META, "7.1", "fine")
    assert raised.value.field == "result"


def test_raise_finding_returns_its_id_and_keeps_the_finding():
    audit = started()
    evidence = uuid4()
    finding_id = audit.raise_finding(
        META,
        "8.5.1",
        "major_nonconformity",
        "No calibration",
        "G-12",
        START,
        [evidence],
    )

    [event] = audit.collect_events()
    assert isinstance(event, Audit.FindingRaised)
    assert (event.finding_id, event.grade) == (finding_id, "major_nonconformity")
    finding = audit.findings[finding_id]
    assert (finding.grade, finding.status) == (MAJOR, FindingStatus.AWAITING_RESPONSE)
    assert finding.evidence_ids == (evidence,)


def test_findings_cannot_be_raised_before_the_audit_starts():
    audit = planned()
    refused(
        "audit.invalid_transition",
        audit.raise_finding,
        META,
        "4.1",
        MINOR,
        "d",
        "e",
        START,
    )


def test_audit_work_after_drafting_needs_a_new_draft_before_submission():
    audit = started()
    audit.draft_report(META, "Draft 1")
    raise_nc(audit, MINOR)
    assert audit.status == "in_progress"

    refused("audit.invalid_transition", audit.submit_for_review, META, REVIEWER)
    audit.draft_report(META, "Draft 2")
    audit.submit_for_review(META, REVIEWER)
    assert audit.status is AuditStatus.UNDER_REVIEW


def test_regrading_keeps_the_history_of_grades():
    audit = started()
    finding_id = raise_nc(audit, MINOR)
    audit.regrade_finding(META, finding_id, MAJOR, "Systemic")
    audit.regrade_finding(META, finding_id, Grade.OBSERVATION, "Isolated after all")

    finding = audit.findings[finding_id]
    assert finding.grade is Grade.OBSERVATION
    assert finding.past_grades == (
        PastGrade(MINOR, "Systemic"),
        PastGrade(MAJOR, "Isolated after all"),
    )
    refused(
        "audit.grade_unchanged",
        audit.regrade_finding,
        META,
        finding_id,
        Grade.OBSERVATION,
        "again",
    )


def test_a_dismissed_finding_can_no_longer_change():
    audit = started()
    finding_id = raise_nc(audit)
    audit.dismiss_finding(META, finding_id, "Raised in error")

    finding = audit.findings[finding_id]
    assert (finding.status, finding.dismissal_reason) == (
        FindingStatus.DISMISSED,
        "Raised in error",
    )
    assert audit.open_majors() == []
    refused(
        "audit.invalid_finding_transition",
        audit.regrade_finding,
        META,
        finding_id,
        MINOR,
        "x",
    )
    refused("audit.invalid_finding_transition", audit.close_finding, META, finding_id)


def test_findings_cannot_be_regraded_once_submitted_for_review():
    audit = started()
    finding_id = raise_nc(audit)
    submitted(audit)
    refused(
        "audit.invalid_transition",
        audit.regrade_finding,
        META,
        finding_id,
        MINOR,
        "Reviewer disagrees",
    )


def test_an_unknown_finding_is_refused():
    audit = started()
    refused("audit.unknown_finding", audit.accept_response, META, uuid4())


# -- corrective action -------------------------------------------------------------


def test_a_nonconformity_goes_from_response_to_closed():
    audit = started()
    finding_id = raise_nc(audit)
    respond(audit, finding_id)
    audit.reject_response(META, finding_id, "Root cause is a symptom")
    finding = audit.findings[finding_id]
    assert (finding.status, finding.rejection_reason) == (
        FindingStatus.AWAITING_RESPONSE,
        "Root cause is a symptom",
    )

    respond(audit, finding_id)
    audit.accept_response(META, finding_id)
    audit.implement_corrective_action(META, finding_id, END)
    audit.verify_effectiveness(META, finding_id, AUDITOR, END)
    audit.close_finding(META, finding_id)

    finding = audit.findings[finding_id]
    assert (finding.status, finding.verified_by) == (FindingStatus.CLOSED, AUDITOR)
    assert [type(e).__name__ for e in audit.collect_events()][1:] == [
        "ResponseSubmitted",
        "ResponseRejected",
        "ResponseSubmitted",
        "ResponseAccepted",
        "CorrectiveActionImplemented",
        "CorrectiveActionVerified",
        "FindingClosed",
    ]


def test_corrective_action_steps_keep_their_order():
    audit = started()
    finding_id = raise_nc(audit)
    rule = "audit.invalid_finding_transition"
    refused(rule, audit.accept_response, META, finding_id)
    refused(rule, audit.implement_corrective_action, META, finding_id, END)
    respond(audit, finding_id)
    refused(rule, audit.verify_effectiveness, META, finding_id, LEAD, END)
    refused(rule, audit.close_finding, META, finding_id)
    refused(
        rule, audit.submit_response, META, finding_id, "a", "b", "c", END
    )  # a response is already awaiting review


def test_observations_need_no_corrective_action_and_close_at_once():
    audit = started()
    finding_id = raise_nc(audit, Grade.OPPORTUNITY_FOR_IMPROVEMENT)
    refused(
        "audit.not_a_nonconformity",
        audit.submit_response,
        META,
        finding_id,
        "a",
        "b",
        "c",
        END,
    )
    audit.close_finding(META, finding_id)
    assert audit.findings[finding_id].status is FindingStatus.CLOSED


@pytest.mark.parametrize(
    "grade", [Grade.OBSERVATION, Grade.OPPORTUNITY_FOR_IMPROVEMENT]
)
def test_observations_are_noted_not_awaiting_a_response_and_never_overdue(grade):
    audit = started()
    finding_id = raise_nc(audit, grade)
    finding = audit.findings[finding_id]
    assert finding.status is FindingStatus.NOTED
    assert not finding.is_overdue(END + timedelta(days=3650))
    assert not finding.is_resolved


def test_regrading_moves_between_noted_and_awaiting_response():
    audit = started()
    finding_id = raise_nc(audit, Grade.OBSERVATION)
    audit.regrade_finding(META, finding_id, MINOR, "Systemic")
    assert audit.findings[finding_id].status is FindingStatus.AWAITING_RESPONSE
    audit.regrade_finding(META, finding_id, Grade.OBSERVATION, "Isolated after all")
    assert audit.findings[finding_id].status is FindingStatus.NOTED
    audit.regrade_finding(META, finding_id, MAJOR, "Systemic")
    respond(audit, finding_id)
    audit.regrade_finding(META, finding_id, Grade.OBSERVATION, "Minor slip")
    # A response already given stays on record.
    assert audit.findings[finding_id].status is FindingStatus.RESPONSE_SUBMITTED


def test_stored_observation_events_load_as_noted():
    audit = plan()
    audit.assign_team(META, LEAD, (AUDITOR,), (EXPERT,), (OBSERVER,))
    audit.start(META, START)
    finding_id = raise_nc(audit, Grade.OBSERVATION)
    store = LibraryEventStore(in_memory_env())
    try:
        store.append(audit)
        reloaded = store.load(Audit, audit.id)
    finally:
        store.close()
    assert reloaded is not None
    assert reloaded.findings[finding_id].status is FindingStatus.NOTED


def test_the_due_date_cannot_be_before_the_finding():
    audit = started()
    finding_id = raise_nc(audit)
    with pytest.raises(InvalidValueError) as raised:
        respond(audit, finding_id, due=START - timedelta(days=1))
    assert raised.value.field == "due_date"


def test_corrective_actions_continue_after_the_decision_until_closing():
    audit = started()
    finding_id = raise_nc(audit, MINOR)
    respond(audit, finding_id)
    audit.accept_response(META, finding_id)
    audit = decided(audit)

    audit.implement_corrective_action(META, finding_id, END)
    audit.verify_effectiveness(META, finding_id, LEAD, END)
    audit.close_finding(META, finding_id)
    assert audit.findings[finding_id].status is FindingStatus.CLOSED
    assert audit.status is AuditStatus.DECIDED


def test_a_finding_carries_the_audit_version_of_its_latest_change():
    audit = started()
    first, second = raise_nc(audit), raise_nc(audit, MINOR)
    raised_at = audit.version
    respond(audit, first)
    assert audit.findings[first].version == audit.version
    assert audit.findings[second].version == raised_at


def test_a_decision_records_the_versions_it_was_taken_on():
    audit = started()
    major, minor = raise_nc(audit), raise_nc(audit, MINOR)
    resolve(audit, major)
    respond(audit, minor)
    audit.accept_response(META, minor)
    audit = approved(audit)
    seen = audit.version

    audit.record_decision(META, DECIDER, "grant", "Conforms", END)
    [event] = audit.collect_events()
    assert isinstance(event, Audit.DecisionRecorded)
    assert (event.audit_version, event.template_version) == (seen, 3)
    assert event.finding_versions == {
        str(major): audit.findings[major].version,
        str(minor): audit.findings[minor].version,
    }
    assert audit.decision is not None
    assert audit.decision.audit_version == seen
    assert audit.decision.finding_versions == event.finding_versions


def test_a_version_1_decision_loads_without_what_it_was_taken_on():
    audit = approved()
    audit.record_decision(META, DECIDER, "grant", "Conforms", END)
    [event] = audit.collect_events()
    store = LibraryEventStore(in_memory_env())
    try:
        stored = store.app.mapper.to_stored_event(event)
        state = json.loads(stored.state)
        for field in ("class_version", *_BASIS):
            del state[field]
        v1 = replace(stored, state=json.dumps(state).encode())
        assert isinstance(v1, StoredEvent)
        loaded = store.decode(v1)
    finally:
        store.close()
    assert isinstance(loaded, Audit.DecisionRecorded)
    assert (loaded.outcome, loaded.decided_by) == ("grant", DECIDER)
    assert [getattr(loaded, f) for f in _BASIS] == [None, None, None]


_BASIS = ("audit_version", "template_version", "finding_versions")


def test_a_finding_is_overdue_only_while_its_action_is_pending_past_the_due_date():
    audit = started()
    finding_id = raise_nc(audit)
    due = END + timedelta(days=30)
    assert not audit.findings[finding_id].is_overdue(due + timedelta(days=99))

    respond(audit, finding_id, due)
    assert not audit.findings[finding_id].is_overdue(due)
    assert audit.findings[finding_id].is_overdue(due + timedelta(days=1))

    audit.reject_response(META, finding_id, "Vague")
    assert audit.findings[finding_id].is_overdue(due + timedelta(days=1))

    respond(audit, finding_id, due)
    audit.accept_response(META, finding_id)
    audit.implement_corrective_action(META, finding_id, due + timedelta(days=5))
    assert not audit.findings[finding_id].is_overdue(due + timedelta(days=6))


def test_open_majors_and_minors_without_accepted_plan():
    audit = started()
    major, minor, accepted_minor = raise_nc(audit), raise_nc(audit, MINOR), None
    accepted_minor = raise_nc(audit, MINOR)
    respond(audit, accepted_minor)
    audit.accept_response(META, accepted_minor)
    respond(audit, minor)
    raise_nc(audit, Grade.OBSERVATION)

    assert [f.id for f in audit.open_majors()] == [major]
    assert [f.id for f in audit.minors_without_accepted_plan()] == [minor]

    resolve(audit, major)
    assert audit.open_majors() == []


# -- review, decision, closing -------------------------------------------------------


def test_the_technical_reviewer_must_not_be_on_the_team():
    audit = started()
    audit.draft_report(META, "Report")
    refused("audit.reviewer_not_independent", audit.submit_for_review, META, AUDITOR)


@pytest.mark.parametrize("other", ["alice", "tom"])
def test_only_the_reviewer_named_at_submission_reviews(other):
    audit = submitted(started())
    someone_else = EventMeta("tenant-a", other, "req-2", "req-2")
    refused("audit.not_the_technical_reviewer", audit.approve_review, someone_else)
    refused(
        "audit.not_the_technical_reviewer",
        audit.return_for_rework,
        someone_else,
        "Looks thin",
    )
    audit.approve_review(AS_REVIEWER)
    assert audit.status is AuditStatus.REVIEW_APPROVED


def test_returned_for_rework_goes_back_in_progress_with_the_comments():
    audit = submitted(started())
    audit.return_for_rework(AS_REVIEWER, "Clause 7 evidence missing")
    assert (audit.status, audit.review_comments) == (
        AuditStatus.IN_PROGRESS,
        "Clause 7 evidence missing",
    )
    refused(
        "audit.reviewer_not_independent",
        audit.assign_team,
        META,
        LEAD,
        (AUDITOR, REVIEWER),
    )


@pytest.mark.parametrize("person", [LEAD, AUDITOR, EXPERT, OBSERVER, REVIEWER])
def test_the_decision_maker_must_be_independent_of_the_audit(person):
    audit = approved()
    refused(
        "audit.decision_maker_not_independent",
        audit.record_decision,
        META,
        person,
        "grant",
        "ok",
        END,
    )


def test_someone_once_on_the_team_cannot_decide_either():
    audit = started()
    audit.assign_team(META, LEAD, (AUDITOR,))  # the expert and observer left
    audit = approved(audit)
    refused(
        "audit.decision_maker_not_independent",
        audit.record_decision,
        META,
        EXPERT,
        "refuse",
        "no",
        END,
    )


def test_record_decision_keeps_outcome_reasons_decider_and_date():
    audit = decided(outcome="refuse")
    decision = audit.decision
    assert decision is not None
    assert (decision.outcome, decision.decided_by, decision.decided_on) == (
        DecisionOutcome.REFUSE,
        DECIDER,
        END,
    )
    assert audit.status is AuditStatus.DECIDED


def test_certification_cannot_be_granted_with_an_unverified_major():
    audit = started()
    raise_nc(audit)
    audit = approved(audit)
    refused(
        "audit.unverified_major_nonconformity",
        audit.record_decision,
        META,
        DECIDER,
        "grant",
        "ok",
        END,
    )


def test_certification_cannot_be_granted_with_a_minor_lacking_an_accepted_plan():
    audit = started()
    raise_nc(audit, MINOR)
    audit = approved(audit)
    refused(
        "audit.minor_without_accepted_plan",
        audit.record_decision,
        META,
        DECIDER,
        "grant",
        "ok",
        END,
    )


def test_the_audit_cannot_close_while_a_major_is_unverified():
    audit = started()
    finding_id = raise_nc(audit)
    audit = decided(audit, outcome="refuse")

    error = refused("audit.unverified_major_nonconformity", audit.close, META)
    assert str(finding_id) in error.detail

    resolve(audit, finding_id)
    audit.close(META)
    assert audit.status is AuditStatus.CLOSED


def test_a_clean_audit_goes_all_the_way_to_closed():
    audit = plan()
    audit.assign_team(META, LEAD, (AUDITOR,))
    audit.start(META, START)
    audit.assess_requirement(META, "4.1", "conforming")
    audit.draft_report(META, "No findings")
    audit.submit_for_review(META, REVIEWER)
    audit.approve_review(AS_REVIEWER, "Fine")
    audit.record_decision(META, DECIDER, DecisionOutcome.GRANT, "Conforms", END)
    audit.close(META)

    assert [e.TYPE for e in audit.collect_events()] == [
        "audit.planned",
        "audit.team_assigned",
        "audit.started",
        "audit.requirement_assessed",
        "audit.report_drafted",
        "audit.submitted_for_review",
        "audit.review_approved",
        "audit.decision_recorded",
        "audit.closed",
    ]
    assert (audit.status, audit.version) == (AuditStatus.CLOSED, 9)


# -- events ----------------------------------------------------------------------


def test_every_event_type_is_the_snake_case_of_its_class_name():
    events = [
        v for v in vars(Audit).values() if isinstance(v, type) and "TYPE" in vars(v)
    ]
    assert len(events) == 22
    types = {e.__name__: vars(e)["TYPE"] for e in events}
    assert types == {
        name: "audit." + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() for name in types
    }


def test_the_stored_events_rebuild_the_same_audit():
    audit = plan()  # no helper that collects: the store needs every event
    audit.assign_team(META, LEAD, (AUDITOR,), (EXPERT,))
    audit.change_details(
        META,
        planned_start=START,
        planned_end=END,
        scope_statement="Pumps",
        site_ids=(SITE, uuid4()),
    )
    audit.start(META, START)
    major, minor = raise_nc(audit), raise_nc(audit, MINOR)
    audit.assess_requirement(META, "8.5.1", "nonconforming", "See NC", [uuid4()])
    audit.regrade_finding(META, minor, Grade.OBSERVATION, "Isolated")
    resolve(audit, major)
    audit.draft_report(META, "Report")
    audit.submit_for_review(META, REVIEWER)
    audit.return_for_rework(AS_REVIEWER, "Add evidence")
    audit.draft_report(META, "Report v2")
    audit.submit_for_review(META, REVIEWER)
    audit.approve_review(AS_REVIEWER)
    audit.record_decision(META, DECIDER, "grant", "Conforms", END)
    audit.close(META)
    audit.reopen(META, "Typo in report")
    store = LibraryEventStore(in_memory_env())
    try:
        store.append(audit)
        assert store.load(Audit, audit.id) == audit
    finally:
        store.close()
