"""Audits read model: rows a screen shows, built from the events the relay publishes.

Events come from the real domain, stored in the in-memory event store and
turned into envelopes exactly as the relay does (``decode`` + ``to_envelope``).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from domain.audit import Audit
from domain.audit_values import Grade
from domain.events import EventMeta
from domain.evidence import Evidence
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.streaming.event_schemas import superseded
from infra.streaming.public_events import to_envelope
from projections.audit_decisions import Publication, decision_of
from projections.audit_tables import is_overdue
from projections.audits import EVENT_TYPES, AuditProjection, MissingAuditRowError
from projections.envelope import EventEnvelope
from projections.rows import MemoryRows

TENANT = "tenant-a"
META = EventMeta(TENANT, "pam", "req-1", "req-1")
CLIENT = EventMeta(TENANT, "carla", "req-2", "req-2")
REVIEW = EventMeta(TENANT, "rita", "req-3", "req-3")
ORG, SITE, SITE_2, TEMPLATE = uuid4(), uuid4(), uuid4(), uuid4()
START, END = date(2025, 3, 10), date(2025, 3, 12)
DUE = date(2025, 4, 30)
LEAD, AUDITOR, EXPERT, OBSERVER, NINA = "lena", "arun", "ezra", "olga", "nina"
REVIEWER, DECIDER = "rita", "dmitri"
PDF = b"%PDF-1.7\n" + b"x" * 100
DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"


class Feed:
    """The relay's view: what the real event store holds, as public envelopes."""

    def __init__(self) -> None:
        self.store = LibraryEventStore(in_memory_env(snapshots=False))
        self.position = 0

    def publish(self, *aggregates) -> list[EventEnvelope]:
        self.store.append(*aggregates)
        stored = self.store.read_after(self.position, 1000)
        self.position = stored[-1].id
        return [to_envelope(self.store.decode(n), n.id, "/assurehub") for n in stored]


class Screen:
    """The projection over in-memory rows, as the rebuild runs it."""

    def __init__(self) -> None:
        self.projection = AuditProjection()
        self.rows = MemoryRows(self.projection.tables)

    def deliver(self, envelopes) -> None:
        for envelope in envelopes:
            self.projection.apply(envelope, self.rows)

    def get(self, table: str, *key):
        row = self.rows.get(table, (TENANT, *key))
        assert row is not None, f"no {table} row {key}"
        return row

    def counts(self, audit_id: UUID) -> dict[str, int]:
        """The audit's nonzero finding counts, without the ``findings_`` prefix."""
        row = self.get("audits", audit_id)
        return {
            name.removeprefix("findings_"): value
            for name, value in row.items()
            if name.startswith("findings_") and value
        }


@pytest.fixture
def feed():
    feed = Feed()
    yield feed
    feed.store.close()


def plan_audit() -> Audit:
    return Audit.plan(
        META,
        organization_id=ORG,
        site_ids=(SITE,),
        standard_template_id=TEMPLATE,
        standard_version=3,
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_type="stage_2",
        planned_start=START,
        planned_end=END,
        scope_statement="Design and manufacture of pumps",
    )


def upload(audit_id: UUID, finding_id: UUID | None = None, tenant: str = TENANT):
    meta = EventMeta(tenant, "arun", "req-up", "req-up")
    return Evidence.upload(meta, audit_id, finding_id, "plan.pdf", 109, PDF, "a" * 64)


def expected_counts(audit: Audit) -> dict[str, int]:
    """Counts computed from the aggregate itself, independently of the projection."""
    short = {
        "major_nonconformity": "major",
        "minor_nonconformity": "minor",
        "observation": "observation",
        "opportunity_for_improvement": "ofi",
    }
    findings = audit.findings.values()
    counts = Counter(f.status.value for f in findings)
    counts.update(short[f.grade] for f in findings if f.status != "dismissed")
    counts["open_majors"] = len(audit.open_majors())
    return {k: v for k, v in counts.items() if v}


def assert_mirrors(screen: Screen, audit: Audit) -> None:
    """The rows show what the aggregate holds after the same events."""
    row = screen.get("audits", audit.id)
    team = sorted(audit.team_members())
    assert (row["status"], row["version"]) == (audit.status.value, audit.version)
    assert (row["team"], row["lead_auditor"]) == (team, audit.team.lead_auditor)
    assert screen.counts(audit.id) == expected_counts(audit)
    for finding in audit.findings.values():
        f = screen.get("findings", finding.id)
        assert (f["grade"], f["status"]) == (finding.grade, finding.status)
        assert (f["audit_id"], f["organization_id"]) == (audit.id, ORG)
        assert f["version"] == finding.version
        promised = finding.response.due_date if finding.response else None
        assert f["due_date"] == promised
        for on in (DUE - timedelta(days=1), DUE, DUE + timedelta(days=1)):
            assert is_overdue(f, on) == finding.is_overdue(on), (finding.id, on)
    for clause, assessment in audit.assessments.items():
        assert screen.get("assessments", audit.id, clause)["result"] == (
            assessment.result
        )


def test_a_full_audit_lifecycle_shows_on_the_list_detail_and_register(feed):
    screen = Screen()
    seen: list[EventEnvelope] = []

    def step(*aggregates, meta_audit: Audit | None = None) -> list[EventEnvelope]:
        envelopes = feed.publish(*aggregates)
        screen.deliver(envelopes)
        seen.extend(envelopes)
        assert_mirrors(screen, meta_audit or audit)
        return envelopes

    audit = plan_audit()
    step(audit)
    row = screen.get("audits", audit.id)
    assert row["organization_id"] == ORG
    assert row["site_ids"] == [str(SITE)]
    assert (row["audit_type"], row["planned_start"], row["planned_end"]) == (
        "stage_2",
        START,
        END,
    )
    assert (row["standard_template_id"], row["standard_version"]) == (TEMPLATE, 3)
    assert (row["standard_name"], row["standard_edition"]) == ("ISO 9001", "2015")
    assert row["planned_by"] == "pam"
    assert row["team"] == []
    assert screen.counts(audit.id) == {}

    audit.change_details(
        META,
        planned_start=START,
        planned_end=END + timedelta(days=1),
        scope_statement="Pumps and valves",
        site_ids=(SITE, SITE_2),
    )
    step(audit)
    row = screen.get("audits", audit.id)
    assert row["planned_end"] == END + timedelta(days=1)
    assert row["scope_statement"] == "Pumps and valves"
    assert row["site_ids"] == [str(SITE), str(SITE_2)]

    audit.assign_team(META, LEAD, (AUDITOR,), (EXPERT,), (OBSERVER,))
    audit.start(META, START)
    step(audit)
    row = screen.get("audits", audit.id)
    assert row["team"] == [AUDITOR, EXPERT, LEAD, OBSERVER]
    assert row["team_roles"] == {
        "lead_auditor": LEAD,
        "auditors": [AUDITOR],
        "technical_experts": [EXPERT],
        "observers": [OBSERVER],
    }
    assert (row["status"], row["started_on"]) == ("in_progress", START)

    evidence = upload(audit.id)
    step(evidence)
    audit.assess_requirement(META, "4.1", "conforming", "Policy seen", [evidence.id])
    audit.assess_requirement(META, "4.1", "nonconforming", "Policy outdated")
    step(audit)
    assessment = screen.get("assessments", audit.id, "4.1")
    assert (assessment["result"], assessment["notes"]) == (
        "nonconforming",
        "Policy outdated",
    )
    assert assessment["evidence_ids"] == []
    assert assessment["assessed_by"] == "pam"

    def raise_(clause: str, grade: str) -> UUID:
        return audit.raise_finding(META, clause, grade, f"On {clause}", "Seen", START)

    major = raise_("7.1", "major_nonconformity")
    minor = raise_("8.2", "minor_nonconformity")
    obs = raise_("9.1", "observation")
    ofi = raise_("10.1", "opportunity_for_improvement")
    mistaken = raise_("5.3", "minor_nonconformity")
    step(audit)
    assert screen.counts(audit.id) == {
        "major": 1,
        "minor": 2,
        "observation": 1,
        "ofi": 1,
        "open_majors": 1,
        "awaiting_response": 3,
        "noted": 2,
    }
    f = screen.get("findings", major)
    assert (f["audit_id"], f["clause_id"], f["raised_on"]) == (audit.id, "7.1", START)
    assert (f["open"], f["action_due"], f["due_date"]) == (True, True, None)
    observation = screen.get("findings", obs)
    assert (observation["status"], observation["action_due"]) == ("noted", False)
    assert not is_overdue(observation, DUE + timedelta(days=365))

    audit.dismiss_finding(META, mistaken, "Raised in error")
    step(audit)
    assert screen.counts(audit.id) == {
        "major": 1,
        "minor": 1,
        "observation": 1,
        "ofi": 1,
        "open_majors": 1,
        "awaiting_response": 2,
        "noted": 2,
        "dismissed": 1,
    }
    f = screen.get("findings", mistaken)
    assert (f["open"], f["dismissal_reason"]) == (False, "Raised in error")

    audit.regrade_finding(META, obs, "minor_nonconformity", "Systemic")
    step(audit)
    assert screen.counts(audit.id)["minor"] == 2
    assert "observation" not in screen.counts(audit.id)
    assert screen.counts(audit.id)["awaiting_response"] == 3
    assert screen.counts(audit.id)["noted"] == 1
    f = screen.get("findings", obs)
    assert f["status"] == "awaiting_response"
    assert [(r["from"], r["to"], r["reason"]) for r in f["regrades"]] == [
        ("observation", "minor_nonconformity", "Systemic")
    ]
    assert f["action_due"] is True

    finding_evidence = upload(audit.id, major)
    step(finding_evidence)
    audit.draft_report(META, "Draft")
    step(audit)
    assert screen.get("audits", audit.id)["status"] == "report_drafted"

    # A team change after drafting: the draft is outdated; the audit row
    # holds the new team, findings and evidence keep their audit_id.
    audit.assign_team(META, LEAD, (AUDITOR, NINA), (EXPERT,), ())
    step(audit)
    row = screen.get("audits", audit.id)
    assert row["status"] == "in_progress"
    assert row["team"] == [AUDITOR, EXPERT, LEAD, NINA]
    for finding_id in (major, minor, obs, ofi, mistaken):
        assert screen.get("findings", finding_id)["audit_id"] == audit.id
    for evidence_id in (evidence.id, finding_evidence.id):
        assert screen.get("evidence", evidence_id)["audit_id"] == audit.id

    audit.submit_response(CLIENT, major, "No review", "Fixed", "Review monthly", DUE)
    step(audit)
    f = screen.get("findings", major)
    assert f["due_date"] == DUE
    assert (f["response"]["corrective_action"], f["response"]["by"]) == (
        "Review monthly",
        "carla",
    )
    assert is_overdue(f, DUE + timedelta(days=1))
    assert not is_overdue(f, DUE)

    audit.accept_response(META, major)
    step(audit)
    assert is_overdue(screen.get("findings", major), DUE + timedelta(days=1))
    audit.implement_corrective_action(CLIENT, major, DUE)
    step(audit)
    f = screen.get("findings", major)
    assert (f["status"], f["implemented_on"]) == ("action_implemented", DUE)
    assert not is_overdue(f, DUE + timedelta(days=30))
    assert screen.counts(audit.id)["open_majors"] == 1

    audit.verify_effectiveness(META, major, LEAD, DUE)
    step(audit)
    assert "open_majors" not in screen.counts(audit.id)
    audit.close_finding(META, major)
    step(audit)
    f = screen.get("findings", major)
    assert (f["status"], f["open"], f["verified_by"]) == ("closed", False, LEAD)

    audit.submit_response(CLIENT, minor, "Cause", "Fix", "Action", DUE)
    audit.reject_response(META, minor, "Root cause too shallow")
    step(audit)
    f = screen.get("findings", minor)
    assert (f["status"], f["rejection_reason"]) == (
        "awaiting_response",
        "Root cause too shallow",
    )
    assert f["due_date"] == DUE
    assert is_overdue(f, DUE + timedelta(days=1))
    later = DUE + timedelta(days=14)
    audit.submit_response(CLIENT, minor, "Deeper cause", "Fix", "Action", later)
    audit.accept_response(META, minor)
    audit.submit_response(CLIENT, obs, "Cause", "Fix", "Action", DUE)
    audit.accept_response(META, obs)
    audit.close_finding(META, ofi)
    step(audit)
    assert screen.get("findings", minor)["due_date"] == later
    assert screen.counts(audit.id) == {
        "major": 1,
        "minor": 2,
        "ofi": 1,
        "closed": 2,
        "response_accepted": 2,
        "dismissed": 1,
    }

    audit.draft_report(META, "All good")
    audit.submit_for_review(META, REVIEWER)
    step(audit)
    audit.return_for_rework(REVIEW, "Clause 8 evidence thin")
    step(audit)
    row = screen.get("audits", audit.id)
    assert (row["status"], row["review_outcome"], row["review_comments"]) == (
        "in_progress",
        "returned_for_rework",
        "Clause 8 evidence thin",
    )

    audit.draft_report(META, "All good, clause 8 detailed")
    audit.submit_for_review(META, REVIEWER)
    step(audit)
    row = screen.get("audits", audit.id)
    assert (row["status"], row["review_outcome"]) == ("under_review", None)
    assert row["technical_reviewer"] == REVIEWER
    audit.approve_review(REVIEW, "Fine")
    step(audit)
    row = screen.get("audits", audit.id)
    assert row["report_summary"] == "All good, clause 8 detailed"
    assert [(r["outcome"], r["reviewer"]) for r in row["reviews"]] == [
        ("returned_for_rework", REVIEWER),
        ("approved", REVIEWER),
    ]

    decided_on = DUE + timedelta(days=1)
    audit.record_decision(META, DECIDER, "grant", "Conditions met", decided_on)
    step(audit)
    row = screen.get("audits", audit.id)
    assert (row["status"], row["decision_outcome"], row["decided_by"]) == (
        "decided",
        "grant",
        DECIDER,
    )
    assert row["decided_on"] == decided_on

    audit.close(META)
    [closed] = step(audit)
    row = screen.get("audits", audit.id)
    assert (row["status"], row["closed_at"]) == ("closed", closed.time)

    audit.reopen(META, "Appeal upheld")
    step(audit)
    row = screen.get("audits", audit.id)
    assert row["status"] == "in_progress"
    assert (row["decision_outcome"], row["closed_at"], row["review_outcome"]) == (
        None,
        None,
        None,
    )
    assert row["past_decisions"] == [
        {
            "outcome": "grant",
            "reasons": "Conditions met",
            "decided_by": DECIDER,
            "decided_on": decided_on.isoformat(),
            "closed_at": closed.time.isoformat(),
        }
    ]
    assert [r["reason"] for r in row["reopenings"]] == ["Appeal upheld"]
    assert (row["version"], row["position"]) == (audit.version, seen[-1].position)

    not_seen = {e for e in EVENT_TYPES if "cancelled" not in e} - {e.type for e in seen}
    assert not_seen == set()
    # Replaying what was delivered step by step, in one go, gives the same rows.
    replayed = Screen()
    replayed.deliver(seen)
    assert replayed.rows.data == screen.rows.data


def test_a_cancelled_audit_shows_why_and_when(feed):
    audit = plan_audit()
    audit.cancel(META, "Client withdrew")
    screen = Screen()
    [_, cancelled] = feed.publish(audit)
    screen.deliver([_, cancelled])
    row = screen.get("audits", audit.id)
    assert (row["status"], row["cancellation_reason"], row["cancelled_at"]) == (
        "cancelled",
        "Client withdrew",
        cancelled.time,
    )
    assert row["version"] == 2


def decided_with_a_minor(feed: Feed, screen: Screen) -> tuple[Audit, UUID]:
    """An audit decided to grant with one minor whose plan was accepted."""
    audit = plan_audit()
    audit.assign_team(META, LEAD, (AUDITOR,))
    audit.start(META, START)
    minor = audit.raise_finding(
        META, "8.5.1", Grade.MINOR_NONCONFORMITY, "No calibration", "G-12", START
    )
    audit.submit_response(CLIENT, minor, "No plan", "Calibrated", "Schedule", DUE)
    audit.accept_response(META, minor)
    audit.draft_report(META, "One minor")
    audit.submit_for_review(META, REVIEWER)
    audit.approve_review(REVIEW)
    audit.record_decision(META, DECIDER, "grant", "Conforms", END)
    screen.deliver(feed.publish(audit))
    return audit, minor


def detail_decision(screen: Screen, audit: Audit):
    row = screen.get("audits", audit.id)
    findings = [f for f in screen.rows.rows("findings") if f["audit_id"] == audit.id]
    return decision_of(row, findings)


def test_a_decision_is_fresh_until_a_finding_it_rests_on_moves(feed):
    screen = Screen()
    audit, minor = decided_with_a_minor(feed, screen)
    taken_on = audit.version - 1
    decision = detail_decision(screen, audit)
    assert decision["basis"] == {
        "audit_version": taken_on,
        "template_version": 3,
        "finding_versions": {str(minor): audit.findings[minor].version},
        "position": screen.get("audits", audit.id)["position"],
    }
    assert (decision["outcome"], decision["stale"], decision["changes"]) == (
        "grant",
        False,
        [],
    )
    was = audit.findings[minor].version

    audit.implement_corrective_action(META, minor, END)
    screen.deliver(feed.publish(audit))
    decision = detail_decision(screen, audit)
    assert decision["stale"] is True
    assert decision["changes"] == [
        {"kind": "finding", "id": minor, "from_version": was, "to_version": 11}
    ]
    assert audit.version == 11

    audit.close(META)
    screen.deliver(feed.publish(audit))
    assert detail_decision(screen, audit)["changes"] == decision["changes"]
    audit.reopen(META, "Typo")
    screen.deliver(feed.publish(audit))
    assert detail_decision(screen, audit) is None
    assert screen.get("audits", audit.id)["decision_basis"] is None


def test_a_decision_stored_before_its_basis_was_kept_is_neither_fresh_nor_stale(
    feed,
):
    screen = Screen()
    audit = plan_audit()
    audit.assign_team(META, LEAD, (AUDITOR,))
    audit.start(META, START)
    audit.draft_report(META, "Clean")
    audit.submit_for_review(META, REVIEWER)
    audit.approve_review(REVIEW)
    audit.record_decision(META, DECIDER, "refuse", "Scope unclear", END)
    *before, decided = feed.publish(audit)
    unknown = dict.fromkeys(("audit_version", "template_version", "finding_versions"))
    screen.deliver([*before, replace(decided, data={**decided.data, **unknown})])
    decision = detail_decision(screen, audit)
    assert (decision["outcome"], decision["basis"]) == ("refuse", None)
    assert (decision["stale"], decision["changes"]) == (None, [])


def changes(row, findings, publications=()):
    decision = decision_of(row, findings, publications)
    assert decision is not None
    assert decision["stale"] is bool(decision["changes"])
    return decision["changes"]


def test_a_moved_audit_or_template_makes_the_decision_stale(feed):
    screen = Screen()
    audit, _ = decided_with_a_minor(feed, screen)
    row = screen.get("audits", audit.id)
    findings = [f for f in screen.rows.rows("findings") if f["audit_id"] == audit.id]
    basis = row["decision_basis"]
    assert changes(row, findings) == []
    moved = {**row, "content_version": basis["audit_version"] + 2}
    moved["standard_version"] = 4
    assert changes(moved, findings) == [
        {
            "kind": "audit",
            "id": audit.id,
            "from_version": basis["audit_version"],
            "to_version": basis["audit_version"] + 2,
        },
        {"kind": "template", "id": TEMPLATE, "from_version": 3, "to_version": 4},
    ]
    later = {**findings[0], "id": uuid4(), "version": 20}
    assert changes(row, [*findings, later]) == [
        {"kind": "finding", "id": later["id"], "from_version": None, "to_version": 20}
    ]


def test_a_template_version_published_after_the_decision_makes_it_stale(feed):
    screen = Screen()
    audit, _ = decided_with_a_minor(feed, screen)
    row = screen.get("audits", audit.id)
    findings = [f for f in screen.rows.rows("findings") if f["audit_id"] == audit.id]
    decided = row["decision_basis"]["position"]
    known = [Publication(3, 1), Publication(4, decided - 1)]
    assert changes(row, findings) == changes(row, findings, known) == []
    later = [*known, Publication(5, decided + 1), Publication(6, decided + 7)]
    assert changes(row, findings, later) == [
        {"kind": "template", "id": TEMPLATE, "from_version": 3, "to_version": 6}
    ]
    unkept = {**row, "decision_basis": {**row["decision_basis"], "position": None}}
    assert changes(unkept, findings, later) == []


def test_only_changes_to_the_audit_itself_move_its_content_version(feed):
    screen = Screen()
    audit = plan_audit()
    audit.assign_team(META, LEAD, (AUDITOR,))
    audit.start(META, START)
    screen.deliver(feed.publish(audit))
    assert screen.get("audits", audit.id)["content_version"] == 3
    minor = audit.raise_finding(
        META, "8.5.1", Grade.MINOR_NONCONFORMITY, "No calibration", "G-12", START
    )
    audit.submit_response(CLIENT, minor, "No plan", "Calibrated", "Schedule", DUE)
    screen.deliver(feed.publish(audit))
    assert screen.get("audits", audit.id)["content_version"] == 3
    audit.assess_requirement(META, "8.5.1", "nonconforming")
    screen.deliver(feed.publish(audit))
    assert screen.get("audits", audit.id)["content_version"] == audit.version == 6


def busy_history(feed: Feed) -> tuple[Audit, list[EventEnvelope]]:
    """Evidence uploaded before, during and after the audit's events."""
    audit = plan_audit()
    early = upload(audit.id)  # uploaded (and stored) before the audit is
    envelopes = feed.publish(early)
    envelopes += feed.publish(audit)
    audit.assign_team(META, LEAD, (AUDITOR,))
    audit.start(META, START)
    finding = audit.raise_finding(
        META, "7.1", Grade.MINOR_NONCONFORMITY, "D", "E", START
    )
    envelopes += feed.publish(audit)
    envelopes += feed.publish(upload(audit.id, finding))
    audit.assign_team(META, LEAD, (AUDITOR, NINA), (EXPERT,))
    audit.submit_response(CLIENT, finding, "Cause", "Fix", "Action", DUE)
    envelopes += feed.publish(audit)
    envelopes += feed.publish(upload(audit.id))
    return audit, envelopes


def per_aggregate(envelopes):
    streams: dict[str, list[EventEnvelope]] = {}
    for envelope in envelopes:
        streams.setdefault(envelope.subject, []).append(envelope)
    return list(streams.values())


def interleaved(streams, rng: random.Random):
    """One delivery order that keeps each aggregate's order, as Kafka does."""
    queues = [list(s) for s in streams]
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        yield queue.pop(0)


def test_evidence_rows_are_the_same_whichever_aggregate_arrives_first(feed):
    audit, envelopes = busy_history(feed)
    streams = per_aggregate(envelopes)
    audit_stream = next(s for s in streams if s[0].subject == str(audit.id))
    evidence_streams = [s for s in streams if s is not audit_stream]

    audit_first, evidence_first = Screen(), Screen()
    evidence_events = [e for s in evidence_streams for e in s]
    audit_first.deliver([*audit_stream, *evidence_events])
    evidence_first.deliver([*evidence_events, *audit_stream])

    assert audit_first.rows.data == evidence_first.rows.data
    evidence_rows = list(audit_first.rows.rows("evidence"))
    assert len(evidence_rows) == 3
    for row in evidence_rows:
        assert (row["organization_id"], row["audit_id"]) == (ORG, audit.id)
        assert (row["file_name"], row["size"], row["sha256"]) == (
            "plan.pdf",
            109,
            "a" * 64,
        )
        assert (row["media_type"], row["uploaded_by"]) == ("application/pdf", "arun")
    [finding] = audit.findings
    assert sorted(str(r["finding_id"]) for r in evidence_rows) == sorted(
        [str(finding), "None", "None"]
    )
    for seed in range(20):
        screen = Screen()
        screen.deliver(interleaved(streams, random.Random(seed)))
        assert screen.rows.data == audit_first.rows.data, seed


def test_evidence_that_arrives_first_waits_for_its_audit_to_fill_the_scope(feed):
    audit, envelopes = busy_history(feed)
    early = envelopes[0]
    screen = Screen()
    screen.deliver([early])
    row = screen.get("evidence", UUID(early.subject))
    assert row["organization_id"] is None
    assert row["audit_id"] == audit.id

    screen.deliver(e for e in envelopes[1:] if e.subject == str(audit.id))
    row = screen.get("evidence", UUID(early.subject))
    assert (row["organization_id"], row["audit_id"]) == (ORG, audit.id)


def test_evidence_takes_nothing_from_another_audit_or_tenant(feed):
    audit = plan_audit()
    audit.assign_team(META, LEAD)
    other_audit = upload(uuid4())
    same_id_other_tenant = upload(audit.id, tenant="tenant-b")
    screen = Screen()
    screen.deliver(feed.publish(other_audit))
    screen.deliver(feed.publish(audit))
    screen.deliver(feed.publish(same_id_other_tenant))
    for tenant, evidence in (
        (TENANT, other_audit),
        ("tenant-b", same_id_other_tenant),
    ):
        row = screen.rows.get("evidence", (tenant, evidence.id))
        assert row is not None
        assert row["organization_id"] is None


class CountingRows:
    """Rows over :class:`MemoryRows` that counts the writes and finds per table."""

    def __init__(self, rows: MemoryRows) -> None:
        self.rows = rows
        self.writes: Counter[str] = Counter()
        self.finds: Counter[str] = Counter()

    def get(self, table, key):
        return self.rows.get(table, key)

    def find(self, table, where):
        self.finds[table] += 1
        return self.rows.find(table, where)

    def insert(self, table, row):
        self.writes[table] += 1
        self.rows.insert(table, row)

    def upsert(self, table, row):
        self.writes[table] += 1
        self.rows.upsert(table, row)

    def update(self, table, key, changes):
        self.writes[table] += 1
        return self.rows.update(table, key, changes)

    def delete(self, table, key):
        self.writes[table] += 1
        self.rows.delete(table, key)


def test_a_team_change_writes_only_the_audit_row_however_many_findings(feed):
    audit = plan_audit()
    audit.assign_team(META, LEAD, (AUDITOR,))
    audit.start(META, START)
    findings = [
        audit.raise_finding(META, f"7.{n}", Grade.OBSERVATION, "D", "E", START)
        for n in range(40)
    ]
    screen = Screen()
    screen.deliver(feed.publish(audit))
    for finding_id in findings[:3]:
        screen.deliver(feed.publish(upload(audit.id, finding_id)))
    screen.deliver(feed.publish(upload(audit.id)))
    before = {t: {k: dict(r) for k, r in screen.rows.data[t].items()} for t in
              ("findings", "evidence", "assessments")}  # fmt: skip

    counting = CountingRows(screen.rows)
    for n in range(5):
        audit.assign_team(META, LEAD, (AUDITOR, f"auditor-{n}"), (EXPERT,))
        for envelope in feed.publish(audit):
            screen.projection.apply(envelope, counting)

    assert counting.writes == {"audits": 5}
    assert counting.finds == {}
    after = {t: dict(screen.rows.data[t]) for t in before}
    assert after == before
    row = screen.get("audits", audit.id)
    assert row["team"] == [AUDITOR, "auditor-4", EXPERT, LEAD]
    assert row["version"] == audit.version
    assert_mirrors(screen, audit)


def test_replaying_the_same_events_into_fresh_rows_gives_identical_rows(feed):
    _, envelopes = busy_history(feed)
    first, second = Screen(), Screen()
    first.deliver(envelopes)
    second.deliver(envelopes)
    assert first.rows.data == second.rows.data
    assert {t: len(rows) for t, rows in first.rows.data.items()} == {
        "audits": 1,
        "assessments": 0,
        "findings": 1,
        "evidence": 3,
    }


def test_every_documented_audit_event_is_handled():
    documented = {p.stem for p in DOCS.glob("assurehub.audit.*.json")}
    documented -= set(superseded())
    assert documented
    assert documented | {"assurehub.evidence.uploaded.v1"} == EVENT_TYPES


def test_other_event_types_change_nothing(feed):
    _, envelopes = busy_history(feed)
    screen = Screen()
    screen.deliver(envelopes)
    before = screen.rows.data.copy()
    other = replace(envelopes[1], type="assurehub.organization.renamed.v1")
    screen.deliver([other, replace(envelopes[1], type="assurehub.audit.planned.v2")])
    assert screen.rows.data == before


def test_an_audit_event_without_its_audit_row_is_refused_not_dropped(feed):
    audit = plan_audit()
    audit.assign_team(META, LEAD)
    _, team_assigned = feed.publish(audit)
    with pytest.raises(MissingAuditRowError, match=str(audit.id)):
        Screen().deliver([team_assigned])
