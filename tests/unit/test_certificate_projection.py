"""Certificate registry and public verification, from the real domain's events.

Events come from running the certificate aggregate and go through the relay's
own :func:`to_envelope`, so the projection sees what Kafka carries.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import date
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate

from domain.certificate import Certificate
from domain.events import EventMeta
from domain.organization import Organization
from infra.streaming.public_events import to_envelope
from projections.certificates import (
    CERTIFICATES,
    VERIFICATIONS,
    CertificateProjection,
    number_sort_key,
    status_on,
    verification_digest,
)
from projections.envelope import EventEnvelope
from projections.rows import MemoryRows, Row
from tests.unit.test_certificate import (
    AUDIT,
    DECIDED,
    EXPIRES,
    META,
    ORG,
    SITE_A,
    SITE_B,
    issue_terms,
    revision_terms,
)

NUMBER = "ACME-2026-000123"


class Log:
    """The event store's log: envelopes in the order they were recorded."""

    def __init__(self) -> None:
        self.envelopes: list[EventEnvelope] = []

    def record(self, aggregate: Aggregate) -> list[EventEnvelope]:
        """Publish the aggregate's pending events at the next positions."""
        new = [
            to_envelope(event, len(self.envelopes) + i + 1, "/assurehub")
            for i, event in enumerate(aggregate.collect_events())
        ]
        self.envelopes.extend(new)
        return new


def project(envelopes: list[EventEnvelope]) -> MemoryRows:
    projection = CertificateProjection()
    store = MemoryRows(projection.tables)
    for envelope in envelopes:
        projection.apply(envelope, store)
    return store


def row(store: MemoryRows, table: str, certificate: Certificate) -> Row:
    found = store.get(table, ("tenant-a", certificate.id))
    assert found is not None
    return found


def verify(store: MemoryRows, number: str, code: str) -> list[Row]:
    """What the public page finds for a typed number and code, in any tenant."""
    digest = verification_digest(code)
    return [
        r
        for r in store.rows(VERIFICATIONS)
        if r["number"] == number and r["verification_code_sha256"] == digest
    ]


# -- registry ------------------------------------------------------------------


def test_an_issued_certificate_shows_every_fact_in_the_registry():
    log = Log()
    certificate = Certificate.issue(META, **issue_terms())
    [issued] = log.record(certificate)

    shown = row(project(log.envelopes), CERTIFICATES, certificate)

    assert shown == shown | {
        "number": NUMBER,
        "number_sort": "ACME-2026-00000123",
        "revision": 1,
        "organization_id": ORG,
        "audit_id": AUDIT,
        "decision_date": DECIDED,
        "standard_name": "ISO 9001",
        "standard_edition": "2015",
        "sites": [
            {"site_id": str(SITE_A), "scope": "Design of widgets"},
            {"site_id": str(SITE_B), "scope": "Manufacture of widgets"},
        ],
        "site_ids": [str(SITE_A), str(SITE_B)],
        "scope_text": "Design of widgets\nManufacture of widgets",
        "status": "active",
        "status_since": date(2026, 1, 12),
        "issue_date": date(2026, 1, 12),
        "effective_date": DECIDED,
        "expiry_date": EXPIRES,
        "previous_id": None,
        "superseded_by_id": None,
        "suspended_on": None,
        "withdrawn_on": None,
        "version": 1,
        "position": issued.position,
        "issued_at": issued.time,
        "updated_at": issued.time,
    }


def test_suspend_reinstate_and_withdraw_show_in_registry_and_verification():
    log = Log()
    certificate = Certificate.issue(META, **issue_terms())
    log.record(certificate)
    certificate.suspend(META, "Surveillance audit not held", date(2026, 3, 1))
    log.record(certificate)

    store = project(log.envelopes)
    suspended = row(store, CERTIFICATES, certificate)
    assert (suspended["status"], suspended["status_since"]) == (
        "suspended",
        date(2026, 3, 1),
    )
    assert suspended["suspension_reason"] == "Surveillance audit not held"
    assert suspended["suspended_until"] == certificate.suspended_until
    assert row(store, VERIFICATIONS, certificate)["status"] == "suspended"

    certificate.reinstate(META, date(2026, 4, 1))
    [reinstated] = log.record(certificate)
    store = project(log.envelopes)
    active = row(store, CERTIFICATES, certificate)
    assert (active["status"], active["status_since"]) == ("active", date(2026, 4, 1))
    assert (active["suspended_on"], active["suspension_reason"]) == (None, None)
    assert (active["version"], active["position"]) == (3, reinstated.position)
    assert active["updated_at"] == reinstated.time

    certificate.withdraw(META, "Misuse of the certification mark", date(2026, 5, 1))
    [withdrawn] = log.record(certificate)
    store = project(log.envelopes)
    ended = row(store, CERTIFICATES, certificate)
    assert (ended["status"], ended["withdrawn_on"]) == ("withdrawn", date(2026, 5, 1))
    assert ended["withdrawal_reason"] == "Misuse of the certification mark"
    public = row(store, VERIFICATIONS, certificate)
    assert (public["status"], public["version"]) == ("withdrawn", 4)
    assert public["position"] == withdrawn.position


def test_an_expired_certificate_is_shown_expired_from_its_expiry_event():
    log = Log()
    certificate = Certificate.issue(META, **issue_terms())
    log.record(certificate)
    certificate.expire(META, EXPIRES)
    log.record(certificate)

    store = project(log.envelopes)

    shown = row(store, CERTIFICATES, certificate)
    assert (shown["status"], shown["expired_on"]) == ("expired", EXPIRES)
    assert row(store, VERIFICATIONS, certificate)["status"] == "expired"


def test_a_reader_shows_a_lapsed_certificate_expired_before_the_event_arrives():
    assert status_on("active", EXPIRES, date(2029, 1, 9)) == "active"
    assert status_on("active", EXPIRES, EXPIRES) == "expired"
    assert status_on("suspended", EXPIRES, EXPIRES) == "expired"
    assert status_on("withdrawn", EXPIRES, EXPIRES) == "withdrawn"
    assert status_on("superseded", EXPIRES, EXPIRES) == "superseded"


def test_numbers_sort_by_their_serial_whatever_its_width():
    numbers = ["ACME-2026-000123", "ACME-2026-1234", "ACME-2025-99999999"]

    assert sorted(numbers, key=number_sort_key) == [
        "ACME-2025-99999999",
        "ACME-2026-000123",
        "ACME-2026-1234",
    ]


# -- revision chain ------------------------------------------------------------


def renewal() -> tuple[
    Certificate, Certificate, list[EventEnvelope], list[EventEnvelope]
]:
    """A first revision, suspended and reinstated, then renewed by a second."""
    log = Log()
    first = Certificate.issue(META, **issue_terms())
    first.suspend(META, "Late surveillance", date(2026, 2, 1))
    first.reinstate(META, date(2026, 2, 10))
    first_events = log.record(first)
    second = Certificate.issue_revision(META, first, **revision_terms())
    first.mark_superseded(META, second.id, date(2026, 9, 2))
    second_events = log.record(second)
    first_events += log.record(first)
    return first, second, first_events, second_events


def interleavings(a: list[EventEnvelope], b: list[EventEnvelope]):
    """Every delivery order that keeps each aggregate's own order."""
    for slots in itertools.combinations(range(len(a) + len(b)), len(a)):
        left, right = iter(a), iter(b)
        yield [
            next(left) if i in slots else next(right) for i in range(len(a) + len(b))
        ]


def test_a_renewal_supersedes_the_old_revision_which_stays_readable():
    first, second, first_events, second_events = renewal()

    store = project(first_events + second_events)

    old = row(store, CERTIFICATES, first)
    new = row(store, CERTIFICATES, second)
    assert (old["status"], old["superseded_on"]) == ("superseded", date(2026, 9, 2))
    assert old["superseded_by_id"] == second.id
    assert old["scope_text"] == "Design of widgets\nManufacture of widgets"
    assert (new["number"], new["revision"], new["status"]) == (NUMBER, 2, "active")
    assert (new["previous_id"], new["superseded_by_id"]) == (first.id, None)
    assert new["scope_text"] == "Design and manufacture of widgets"
    chain = sorted(
        store.find(CERTIFICATES, {"tenant_id": "tenant-a", "number": NUMBER}),
        key=lambda r: r["revision"],
    )
    assert [r["id"] for r in chain] == [first.id, second.id]
    assert [r["id"] for r in chain if r["superseded_by_id"] is None] == [second.id]


def test_the_revision_chain_ends_the_same_in_every_delivery_order():
    _, _, first_events, second_events = renewal()
    expected = project(first_events + second_events).data

    orders = list(interleavings(first_events, second_events))

    assert second_events + first_events in orders
    assert len(orders) == 5  # where the new revision falls among 4 old events
    for order in orders:
        assert project(order).data == expected


def test_replaying_the_same_events_gives_the_same_rows():
    _, _, first_events, second_events = renewal()
    events = first_events + second_events

    assert project(events).data == project(events).data


def test_events_of_other_aggregates_are_ignored():
    organization = Organization.register(META, "Acme Widgets Ltd", "GB", None)
    [registered] = [
        to_envelope(e, 1, "/assurehub") for e in organization.collect_events()
    ]

    store = project([registered])

    assert list(store.rows(CERTIFICATES)) == []
    assert list(store.rows(VERIFICATIONS)) == []


# -- public verification -------------------------------------------------------


def test_the_verification_row_holds_the_digest_of_the_printed_code():
    log = Log()
    certificate = Certificate.issue(META, **issue_terms())
    log.record(certificate)

    public = row(project(log.envelopes), VERIFICATIONS, certificate)

    code = certificate.verification_code
    assert (
        public["verification_code_sha256"] == hashlib.sha256(code.encode()).hexdigest()
    )
    assert code not in public.values()


def test_verification_answers_only_the_right_number_and_code():
    log = Log()
    certificate = Certificate.issue(META, **issue_terms())
    log.record(certificate)
    store = project(log.envelopes)
    code = certificate.verification_code

    [found] = verify(store, NUMBER, code)
    assert (found["status"], found["organization_id"]) == ("active", ORG)
    assert (found["effective_date"], found["expiry_date"]) == (DECIDED, EXPIRES)
    assert found["standard_name"] == "ISO 9001"
    assert verify(store, NUMBER, code[:-1] + ("2" if code[-1] != "2" else "3")) == []
    assert verify(store, "ACME-2026-000124", code) == []


@pytest.mark.parametrize("typed", ["{c}", " {c} ", "{lower}", "{grouped}"])
def test_verification_accepts_the_code_as_people_type_it(typed):
    log = Log()
    certificate = Certificate.issue(META, **issue_terms())
    log.record(certificate)
    code = certificate.verification_code
    grouped = "-".join(code[i : i + 5] for i in range(0, len(code), 5))

    text = typed.format(c=code, lower=code.lower(), grouped=grouped)

    assert len(verify(project(log.envelopes), NUMBER, text)) == 1


def test_each_revision_keeps_its_own_code_and_an_old_code_shows_superseded():
    first, second, first_events, second_events = renewal()
    store = project(second_events + first_events)

    [old] = verify(store, NUMBER, first.verification_code)
    [new] = verify(store, NUMBER, second.verification_code)

    assert (old["revision"], old["status"]) == (1, "superseded")
    assert (new["revision"], new["status"]) == (2, "active")


def test_verification_crosses_tenants_but_shows_no_private_fact():
    other = EventMeta("tenant-b", "bob", "req-9", "req-9")
    log = Log()
    ours = Certificate.issue(META, **issue_terms())
    theirs = Certificate.issue(other, **issue_terms(number="BETA-2026-0001"))
    theirs.suspend(other, "Unpaid fees", date(2026, 3, 1))
    log.record(ours)
    log.record(theirs)
    store = project(log.envelopes)

    [found] = verify(store, "BETA-2026-0001", theirs.verification_code)

    assert (found["tenant_id"], found["status"]) == ("tenant-b", "suspended")
    assert "Unpaid fees" not in found.values()
    private = {"audit_id", "suspension_reason", "withdrawal_reason", "decision_date"}
    assert private.isdisjoint(found)
    assert verify(store, "BETA-2026-0001", ours.verification_code) == []


def test_rows_are_keyed_by_tenant_and_certificate():
    log = Log()
    certificate = Certificate.issue(META, **issue_terms())
    log.record(certificate)
    store = project(log.envelopes)

    assert store.get(CERTIFICATES, ("tenant-b", certificate.id)) is None
    assert store.get(CERTIFICATES, ("tenant-a", uuid4())) is None
    assert isinstance(row(store, CERTIFICATES, certificate)["id"], UUID)
