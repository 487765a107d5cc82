"""Certificate lifecycle under random commands with random dates."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from domain.certificate import Certificate
from domain.certificate_values import CertificateStatus
from domain.errors import RuleViolationError
from domain.events import EventMeta

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
START = date(2026, 1, 1)
THREE_YEARS_AND_A_BIT = 1100  # days; three years are 1095 or 1096


def within_three_years(effective: date, expiry: date) -> bool:
    """Same month and day three years on is the latest allowed expiry."""
    e = effective
    return (expiry.year, expiry.month, expiry.day) <= (e.year + 3, e.month, e.day)


def terms(decided: date, effective_lag: int, validity: int, issue_lag: int) -> dict:
    sites = (uuid4(), uuid4())
    return {
        "site_ids": sites,
        "site_scopes": ("Design", "Manufacture"),
        "standard_edition": "2015",
        "audit_id": uuid4(),
        "decision_date": decided,
        "issue_date": decided + timedelta(days=issue_lag),
        "effective_date": decided + timedelta(days=effective_lag),
        "expiry_date": decided + timedelta(days=effective_lag + validity),
    }


EVENT_DATES = (
    "issue_date",
    "suspended_on",
    "reinstated_on",
    "withdrawn_on",
    "expired_on",
    "superseded_on",
)


def event_date(event) -> date:
    """The day a recorded lifecycle event happened."""
    for field in EVENT_DATES:
        if hasattr(event, field):
            return getattr(event, field)
    raise AssertionError(f"no date on {event!r}")


days = st.integers(min_value=-30, max_value=1300)
pick = st.integers(min_value=0, max_value=20)
reasons = st.sampled_from(["Complaint", "Misuse of the mark", "  ", "x" * 2001])


class CertificateLifecycle(RuleBasedStateMachine):
    """Revisions of one certificate number, oldest first."""

    def __init__(self) -> None:
        super().__init__()
        self.revisions: list[Certificate] = []
        self.applied: dict = {}
        self.withdrawn_at_version: dict = {}

    def record(self, certificate: Certificate) -> None:
        events = certificate.collect_events()
        self.applied.setdefault(certificate.id, []).extend(events)

    def attempt(self, certificate: Certificate, command) -> bool:
        version = certificate.version
        try:
            command()
        except RuleViolationError:  # InvalidValueError included
            assert certificate.collect_events() == []
            assert certificate.version == version
            return False
        self.record(certificate)
        return True

    def target(self, index: int) -> Certificate:
        return self.revisions[index % len(self.revisions)]

    @initialize(
        effective_lag=st.integers(0, 30),
        validity=st.integers(30, 1095),  # issued before it expires
        issue_lag=st.integers(0, 10),
    )
    def issue(self, effective_lag, validity, issue_lag):
        certificate = Certificate.issue(
            META,
            number="ACME-2026-000123",
            organization_id=uuid4(),
            standard_name="ISO 9001",
            **terms(START, effective_lag, validity, issue_lag),
        )
        self.revisions.append(certificate)
        self.record(certificate)

    @rule(index=pick, reason=reasons, day=days, max_days=st.integers(-1, 400))
    def suspend(self, index, reason, day, max_days):
        certificate = self.target(index)
        on = certificate.issue_date + timedelta(days=day)
        self.attempt(
            certificate, lambda: certificate.suspend(META, reason, on, max_days)
        )

    @rule(index=pick, day=days)
    def reinstate(self, index, day):
        certificate = self.target(index)
        on = certificate.issue_date + timedelta(days=day)
        self.attempt(certificate, lambda: certificate.reinstate(META, on))

    @rule(index=pick, reason=reasons, day=days)
    def withdraw(self, index, reason, day):
        certificate = self.target(index)
        on = certificate.issue_date + timedelta(days=day)
        self.attempt(certificate, lambda: certificate.withdraw(META, reason, on))

    @rule(index=pick, day=days)
    def expire(self, index, day):
        certificate = self.target(index)
        on = certificate.issue_date + timedelta(days=day)
        self.attempt(certificate, lambda: certificate.expire(META, on))

    @rule(
        index=pick,
        decision_lag=st.integers(-10, 400),
        effective_lag=st.integers(-5, 30),
        validity=st.integers(0, THREE_YEARS_AND_A_BIT),
        issue_lag=st.integers(-2, 10),
    )
    def revise(self, index, decision_lag, effective_lag, validity, issue_lag):
        previous = self.target(index)
        decided = previous.changed_on + timedelta(days=decision_lag)
        revision_terms = terms(decided, effective_lag, validity, issue_lag)
        revisions: list[Certificate] = []

        def issue_revision():
            revisions.append(
                Certificate.issue_revision(META, previous, **revision_terms)
            )

        if not self.attempt(previous, issue_revision):
            assert revisions == []
            return
        [revision] = revisions
        self.revisions.append(revision)
        self.record(revision)
        previous.mark_superseded(META, revision.id, revision.issue_date)
        self.record(previous)

    @invariant()
    def once_withdrawn_always_withdrawn_and_silent(self):
        for certificate in self.revisions:
            if certificate.id in self.withdrawn_at_version:
                assert certificate.status is CertificateStatus.WITHDRAWN
                assert certificate.version == self.withdrawn_at_version[certificate.id]
            elif certificate.status is CertificateStatus.WITHDRAWN:
                self.withdrawn_at_version[certificate.id] = certificate.version

    @invariant()
    def every_revision_rests_on_its_decision_for_at_most_three_years(self):
        for certificate in self.revisions:
            effective, expiry = certificate.effective_date, certificate.expiry_date
            assert certificate.decision_date <= effective < expiry
            assert within_three_years(effective, expiry)

    @invariant()
    def version_counts_the_applied_events_and_replays_to_the_same_state(self):
        for certificate in self.revisions:
            events = self.applied[certificate.id]
            assert certificate.version == len(events)
            replayed = None
            for event in events:
                replayed = event.mutate(replayed)
            assert replayed == certificate

    @invariant()
    def lifecycle_dates_never_go_backwards(self):
        for certificate in self.revisions:
            dated = [event_date(e) for e in self.applied[certificate.id]]
            assert dated == sorted(dated)
            assert certificate.changed_on == dated[-1]

    @invariant()
    def revisions_form_one_chain_with_only_the_newest_not_superseded(self):
        for older, newer in zip(self.revisions, self.revisions[1:], strict=False):
            assert older.status is CertificateStatus.SUPERSEDED
            assert older.superseded_by == newer.id
            assert newer.supersedes == older.id
            assert newer.revision == older.revision + 1
            assert newer.number == older.number
        assert self.revisions[-1].status is not CertificateStatus.SUPERSEDED


CertificateLifecycle.TestCase.settings = settings(
    max_examples=50, stateful_step_count=30, deadline=None
)
TestCertificateLifecycle = CertificateLifecycle.TestCase


@settings(max_examples=200, deadline=None)
@given(
    effective=st.dates(min_value=date(2024, 1, 1), max_value=date(2040, 12, 31)),
    validity=st.integers(min_value=1, max_value=THREE_YEARS_AND_A_BIT),
)
def test_validity_up_to_the_same_day_three_years_on_and_no_longer(effective, validity):
    def issue():
        return Certificate.issue(
            META,
            number="ACME-2026-000123",
            organization_id=uuid4(),
            standard_name="ISO 9001",
            **terms(effective, 0, validity, 0),
        )

    expiry = effective + timedelta(days=validity)
    if within_three_years(effective, expiry):
        assert issue().expiry_date == expiry
    else:
        with pytest.raises(RuleViolationError) as raised:
            issue()
        assert raised.value.rule == "certificate.validity_too_long"
