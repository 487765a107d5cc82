"""As it was: random command sequences on an audit; after each command the
live detail is recorded, then ``as_of_version`` of every version (and
``as_of`` every version's recorded time) must answer it, field for field.

The live detail is the audits projection applied to each new event as the
runner applies it; the as-of detail is the same projection folded from the
event store by :class:`infra.projection.as_of.AsOfFolds`, starting from fold
snapshots (every three versions here; as of a time too) or from the first
event.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import to_jsonable_python

from commands.audits import (
    ApproveReview,
    AssessRequirement,
    AssignTeam,
    AuditAction,
    AuditService,
    CancelAudit,
    ChangeAuditDetails,
    DraftReport,
    RecordDecision,
    ReopenAudit,
    ReturnForRework,
    SubmitForReview,
)
from commands.findings import (
    DismissFinding,
    FindingAction,
    RaiseFinding,
    RegradeFinding,
    SubmitResponse,
)
from domain.errors import DomainError
from domain.evidence import Evidence
from domain.principal import Principal, Role
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.projection.as_of import (
    AsOfFolds,
    AtTime,
    AtVersion,
    Folded,
    VersionNotReachedError,
)
from infra.projection.memory_fold import MemoryFold
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.audits import AuditProjection
from read_api.audits import audit_detail_of
from tests.unit.test_audit_service import ADMIN, Client, ctx

TODAY = date(2026, 3, 2)
LEAD = Principal("tenant-a", "lena", frozenset({Role.AUDITOR}))
REVIEWER = Principal("tenant-a", "rita", frozenset({Role.TECHNICAL_REVIEWER}))
DECIDER = Principal("tenant-a", "dora", frozenset({Role.DECISION_MAKER}))
STEPS = (
    "team",
    "start",
    "assess",
    "raise",
    "respond",
    "accept",
    "regrade",
    "dismiss",
    "evidence",
    "details",
    "draft",
    "submit",
    "approve",
    "rework",
    "decide",
    "close",
    "reopen",
    "cancel",
)


class World:
    """One audit, its live read model folded event by event, and a record
    of its live detail after each command."""

    def __init__(self) -> None:
        self.store = LibraryEventStore(in_memory_env())
        self.client = Client(self.store)
        self.audits = AuditService(self.store)
        self.envelopes = StoredEnvelopes(self.store, "test")
        self.live = MemoryFold(AuditProjection())
        self.seen = 0
        self.audit_id = self.audits.plan(ctx(), self.client.plan()).id
        self.findings: list[UUID] = []
        self.evidence: list[UUID] = []
        self.first: dict[int, dict[str, Any]] = {}
        self.last: dict[int, dict[str, Any]] = {}
        self.record()
        self.step("team", 0)
        self.step("start", 0)

    def record(self) -> None:
        for n in self.store.read_after(self.seen, 10_000):
            self.live.apply(self.envelopes.envelope(n, n.id))
            self.seen = n.id
        detail = audit_detail_of(ADMIN, self.live.memory, self.audit_id, TODAY)
        assert detail is not None
        answer = to_jsonable_python(detail)
        self.first.setdefault(answer["version"], answer)
        self.last[answer["version"]] = answer

    def step(self, name: str, pick: int) -> None:
        try:
            self._do(name, pick)
        except DomainError:
            return
        self.record()

    def _finding(self, pick: int) -> UUID:
        return self.findings[pick % len(self.findings)]

    def _do(self, name: str, pick: int) -> None:
        a, f = self.audit_id, self.audits.findings
        if name == "team":
            crew = (("arun",), ("arun", "bea"), ())[pick % 3]
            self.audits.assign_team(ctx(), AssignTeam(a, "lena", crew))
        elif name == "start":
            self.audits.start(ctx(LEAD), AuditAction(a))
        elif name == "assess":
            result = ("conforming", "nonconforming", "not_applicable")[pick % 3]
            self.audits.assess_requirement(
                ctx(LEAD), AssessRequirement(a, "4", result, f"note {pick}")
            )
        elif name == "raise":
            grade = ("minor_nonconformity", "observation")[pick % 2]
            raised = f.raise_finding(
                ctx(LEAD), RaiseFinding(a, "4", grade, f"finding {pick}", "seen")
            )
            self.findings.append(raised.finding_id)
        elif name == "respond" and self.findings:
            f.submit_response(
                ctx(),
                SubmitResponse(
                    a, self._finding(pick), "cause", "fix", "action", date(2026, 5, 1)
                ),
            )
        elif name == "accept" and self.findings:
            f.accept_response(ctx(LEAD), FindingAction(a, self._finding(pick)))
        elif name == "regrade" and self.findings:
            grade = ("major_nonconformity", "minor_nonconformity")[pick % 2]
            f.regrade_finding(
                ctx(LEAD), RegradeFinding(a, self._finding(pick), grade, "reason")
            )
        elif name == "dismiss" and self.findings:
            f.dismiss_finding(ctx(LEAD), DismissFinding(a, self._finding(pick), "no"))
        elif name == "evidence":
            evidence = Evidence.upload(
                ctx(LEAD).meta(), a, None, f"file{pick}.txt", 3, b"abc", "a" * 64
            )
            self.store.append(evidence)
            self.evidence.append(evidence.id)
        elif name == "details":
            self.audits.change_details(
                ctx(), ChangeAuditDetails(a, scope_statement=f"Scope {pick}")
            )
        elif name == "draft":
            self.audits.draft_report(ctx(LEAD), DraftReport(a, f"Summary {pick}"))
        elif name == "submit":
            self.audits.submit_for_review(ctx(LEAD), SubmitForReview(a, "rita"))
        elif name == "approve":
            self.audits.approve_review(ctx(REVIEWER), ApproveReview(a, "ok"))
        elif name == "rework":
            self.audits.return_for_rework(ctx(REVIEWER), ReturnForRework(a, "redo"))
        elif name == "decide":
            self.audits.record_decision(
                ctx(DECIDER), RecordDecision(a, "grant", "all good")
            )
        elif name == "close":
            self.audits.close(ctx(), AuditAction(a))
        elif name == "reopen":
            self.audits.reopen(ctx(), ReopenAudit(a, "complaint"))
        elif name == "cancel" and pick == 5 and len(self.last) > 8:
            self.audits.cancel(ctx(), CancelAudit(a, "client left"))

    def as_of(self, folds: AsOfFolds, target: AtVersion | AtTime) -> dict[str, Any]:
        folded = folds.fold(AuditProjection(), self.audit_id, self.evidence, target)
        assert isinstance(folded, Folded)
        detail = audit_detail_of(ADMIN, folded.rows, self.audit_id, TODAY)
        assert detail is not None
        return to_jsonable_python(detail)


steps = st.lists(
    st.tuples(st.sampled_from(STEPS), st.integers(0, 5)), min_size=5, max_size=60
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_as_of_every_version_is_the_live_detail_of_that_version(
    sequence: list[tuple[str, int]],
) -> None:
    world = World()
    for name, pick in sequence:
        world.step(name, pick)
    snapshotting = AsOfFolds(world.store, world.envelopes, interval=3)
    replaying = AsOfFolds(world.store, world.envelopes, snapshots=False)
    for version in sorted(world.last):
        # twice with snapshots: the first fold stores them, the second uses them
        for folds in (snapshotting, snapshotting, replaying):
            assert world.as_of(folds, AtVersion(version)) == world.last[version]
        recorded = world.first[version]["updated_at"]
        at = AtTime(_time(recorded))
        for folds in (snapshotting, replaying):
            assert world.as_of(folds, at) == world.first[version]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_before_the_first_event_there_is_nothing_and_past_the_last_is_refused():
    world = World()
    folds = AsOfFolds(world.store, world.envelopes)
    planned = _time(world.last[1]["created_at"])
    before = AtTime(planned - timedelta(microseconds=1))
    assert folds.fold(AuditProjection(), world.audit_id, (), before) is None
    assert folds.fold(AuditProjection(), world.audit_id, (), AtVersion(0)) is None
    with pytest.raises(VersionNotReachedError):
        folds.fold(AuditProjection(), world.audit_id, (), AtVersion(4))
