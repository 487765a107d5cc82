"""Certificate aggregate: given events, when a command, then events or an error."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.certificate import Certificate
from domain.certificate_values import (
    VERIFICATION_CODE_LENGTH,
    CertificateStatus,
    CertifiedSite,
)
from domain.errors import InvalidValueError, NotFoundError, RuleViolationError
from domain.events import EventMeta
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
OTHER_TENANT = EventMeta("tenant-b", "bob", "req-2", "req-2")
ORG, SITE_A, SITE_B, AUDIT, RENEWAL_AUDIT = (uuid4() for _ in range(5))
DECIDED = date(2026, 1, 10)
EXPIRES = date(2029, 1, 10)


def issue_terms(**overrides):
    terms = {
        "number": "ACME-2026-000123",
        "organization_id": ORG,
        "site_ids": (SITE_A, SITE_B),
        "site_scopes": ("Design of widgets", "Manufacture of widgets"),
        "standard_name": "ISO 9001",
        "standard_edition": "2015",
        "audit_id": AUDIT,
        "decision_date": DECIDED,
        "issue_date": date(2026, 1, 12),
        "effective_date": DECIDED,
        "expiry_date": EXPIRES,
    }
    return terms | overrides


def revision_terms(**overrides):
    terms = {
        "site_ids": (SITE_A,),
        "site_scopes": ("Design and manufacture of widgets",),
        "standard_edition": "2015",
        "audit_id": RENEWAL_AUDIT,
        "decision_date": date(2026, 9, 1),
        "issue_date": date(2026, 9, 2),
        "effective_date": date(2026, 9, 1),
        "expiry_date": date(2029, 9, 1),
    }
    return terms | overrides


def issued(**overrides) -> Certificate:
    certificate = Certificate.issue(META, **issue_terms(**overrides))
    certificate.collect_events()
    return certificate


def suspended(on=date(2026, 3, 1)) -> Certificate:
    certificate = issued()
    certificate.suspend(META, "Surveillance audit not held", on)
    certificate.collect_events()
    return certificate


def refused(certificate: Certificate, command) -> RuleViolationError:
    """Run a command that must be refused; nothing may be recorded."""
    version = certificate.version
    with pytest.raises(RuleViolationError) as raised:
        command()
    assert certificate.collect_events() == []
    assert certificate.version == version
    return raised.value


# -- issue ---------------------------------------------------------------------


def test_issue_records_every_fact_and_starts_active():
    certificate = Certificate.issue(
        META, **issue_terms(site_scopes=("  Design of  widgets", "Manufacture"))
    )

    [event] = certificate.collect_events()
    assert isinstance(event, Certificate.Issued)
    assert event.meta == META
    assert (event.number, event.revision, event.supersedes) == (
        "ACME-2026-000123",
        1,
        None,
    )
    assert event.site_ids == (SITE_A, SITE_B)
    assert event.site_scopes == ("Design of widgets", "Manufacture")
    assert (event.decision_date, event.effective_date, event.expiry_date) == (
        DECIDED,
        DECIDED,
        EXPIRES,
    )
    assert event.verification_code == certificate.verification_code
    assert certificate.status is CertificateStatus.ACTIVE
    assert certificate.sites == (
        CertifiedSite(SITE_A, "Design of widgets"),
        CertifiedSite(SITE_B, "Manufacture"),
    )
    assert (certificate.tenant_id, certificate.organization_id) == ("tenant-a", ORG)
    assert (certificate.standard_name, certificate.standard_edition) == (
        "ISO 9001",
        "2015",
    )
    assert (certificate.audit_id, certificate.issue_date) == (AUDIT, date(2026, 1, 12))
    assert (certificate.revision, certificate.supersedes) == (1, None)
    assert certificate.superseded_by is None
    assert certificate.version == 1


def test_verification_codes_are_unambiguous_upper_case_and_differ():
    codes = {issued().verification_code for _ in range(50)}

    assert len(codes) == 50
    assert all(len(code) == VERIFICATION_CODE_LENGTH for code in codes)
    used = set("".join(codes))
    assert used <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    assert used.isdisjoint("0O1IL")


@pytest.mark.parametrize(
    "number", ["ACME-2026-000123", "AB-2026-1234", "ABCDEFGHIJ12-2026-12345678"]
)
def test_well_formed_numbers_are_accepted_as_given(number):
    assert issued(number=number).number == number


@pytest.mark.parametrize(
    "number",
    [
        "acme-2026-000123",
        "A-2026-000123",
        "ABCDEFGHIJ123-2026-000123",
        "ACME-26-000123",
        "ACME-2026-123",
        "ACME-2026-123456789",
        "ACME_2026_000123",
        " ACME-2026-000123",
        "ACME-2026-000123\n",
        "ACME-2026-00012\u0969",  # a Devanagari digit is not 0-9
    ],
)
def test_badly_formed_numbers_are_refused(number):
    with pytest.raises(InvalidValueError) as raised:
        Certificate.issue(META, **issue_terms(number=number))
    assert raised.value.field == "number"


@pytest.mark.parametrize(
    ("site_ids", "site_scopes", "field"),
    [
        ((), (), "site_ids"),
        ((SITE_A, SITE_B), ("Design",), "site_scopes"),
        ((SITE_A,), ("Design", "Manufacture"), "site_scopes"),
        ((SITE_A, SITE_A), ("Design", "Manufacture"), "site_ids"),
        ((SITE_A,), ("   ",), "site_scopes"),
    ],
)
def test_issue_needs_one_scope_per_distinct_site(site_ids, site_scopes, field):
    with pytest.raises(InvalidValueError) as raised:
        Certificate.issue(
            META, **issue_terms(site_ids=site_ids, site_scopes=site_scopes)
        )
    assert raised.value.field == field


@pytest.mark.parametrize("field", ["standard_name", "standard_edition"])
def test_issue_refuses_a_blank_standard(field):
    with pytest.raises(InvalidValueError) as raised:
        Certificate.issue(META, **issue_terms(**{field: " "}))
    assert raised.value.field == field


@pytest.mark.parametrize("issue_date", [DECIDED - timedelta(days=1), EXPIRES])
def test_issue_date_lies_between_the_decision_and_the_expiry(issue_date):
    with pytest.raises(InvalidValueError) as raised:
        Certificate.issue(META, **issue_terms(issue_date=issue_date))
    assert raised.value.field == "issue_date"


# -- validity ------------------------------------------------------------------


def test_effective_date_may_be_the_decision_date_but_not_before():
    assert issued(effective_date=DECIDED).effective_date == DECIDED

    with pytest.raises(RuleViolationError) as raised:
        Certificate.issue(
            META, **issue_terms(effective_date=DECIDED - timedelta(days=1))
        )
    assert raised.value.rule == "certificate.effective_before_decision"
    assert str(AUDIT) in raised.value.detail


def test_expiry_must_come_after_the_effective_date():
    with pytest.raises(RuleViolationError) as raised:
        Certificate.issue(META, **issue_terms(expiry_date=DECIDED))
    assert raised.value.rule == "certificate.expiry_not_after_effective"


@pytest.mark.parametrize(
    ("effective", "latest_expiry"),
    [
        (date(2026, 1, 10), date(2029, 1, 10)),
        (date(2028, 2, 29), date(2031, 2, 28)),  # no 29 February in 2031
        (date(2027, 12, 31), date(2030, 12, 31)),
    ],
)
def test_validity_is_at_most_three_years_to_the_day(effective, latest_expiry):
    terms = {"decision_date": effective, "issue_date": effective}
    longest = issued(**terms, effective_date=effective, expiry_date=latest_expiry)
    assert longest.expiry_date == latest_expiry

    with pytest.raises(RuleViolationError) as raised:
        Certificate.issue(
            META,
            **issue_terms(
                **terms,
                effective_date=effective,
                expiry_date=latest_expiry + timedelta(days=1),
            ),
        )
    assert raised.value.rule == "certificate.validity_too_long"


# -- suspend and reinstate -----------------------------------------------------


def test_suspend_records_the_reason_and_the_default_six_month_limit():
    certificate = issued()
    certificate.suspend(META, "  Surveillance  audit not held ", date(2026, 3, 1))

    [event] = certificate.collect_events()
    assert isinstance(event, Certificate.Suspended)
    assert (event.reason, event.suspended_on, event.suspended_until) == (
        "Surveillance audit not held",
        date(2026, 3, 1),
        date(2026, 3, 1) + timedelta(days=183),
    )
    assert certificate.status is CertificateStatus.SUSPENDED
    assert certificate.suspension_reason == "Surveillance audit not held"
    assert certificate.suspended_until == date(2026, 8, 31)
    assert certificate.version == 2


def test_suspend_takes_a_shorter_maximum():
    certificate = issued()
    certificate.suspend(META, "Complaint", date(2026, 3, 1), max_suspension_days=30)
    assert certificate.suspended_until == date(2026, 3, 31)


def test_suspend_refuses_a_maximum_below_one_day():
    certificate = issued()
    error = refused(
        certificate,
        lambda: certificate.suspend(META, "x", date(2026, 3, 1), max_suspension_days=0),
    )
    assert isinstance(error, InvalidValueError)
    assert error.field == "max_suspension_days"


def test_a_suspended_certificate_cannot_be_suspended_again():
    certificate = suspended()
    error = refused(
        certificate, lambda: certificate.suspend(META, "again", date(2026, 4, 1))
    )
    assert error.rule == "certificate.suspended"
    assert str(certificate.id) in error.detail


def test_suspend_refuses_a_blank_reason():
    certificate = issued()
    error = refused(certificate, lambda: certificate.suspend(META, " ", DECIDED))
    assert isinstance(error, InvalidValueError)
    assert error.field == "reason"


def test_commands_cannot_be_dated_before_the_last_change():
    certificate = suspended(on=date(2026, 3, 1))
    error = refused(certificate, lambda: certificate.reinstate(META, date(2026, 2, 28)))
    assert isinstance(error, InvalidValueError)
    assert error.field == "on"


def test_a_lapsed_certificate_cannot_be_suspended_only_expired():
    certificate = issued()
    error = refused(certificate, lambda: certificate.suspend(META, "late", EXPIRES))
    assert error.rule == "certificate.lapsed"


def test_reinstate_lifts_the_suspension():
    certificate = suspended()
    certificate.reinstate(META, date(2026, 4, 1))

    [event] = certificate.collect_events()
    assert isinstance(event, Certificate.Reinstated)
    assert event.reinstated_on == date(2026, 4, 1)
    assert certificate.status is CertificateStatus.ACTIVE
    assert (certificate.suspension_reason, certificate.suspended_until) == (None, None)


def test_reinstate_is_allowed_on_the_last_day_of_the_suspension():
    certificate = suspended(on=date(2026, 3, 1))  # 183 days: until 31 August
    certificate.reinstate(META, date(2026, 8, 31))
    assert certificate.status is CertificateStatus.ACTIVE


def test_past_its_maximum_a_suspension_ends_only_in_withdrawal():
    certificate = suspended(on=date(2026, 3, 1))  # 183 days: until 31 August
    day_after = date(2026, 9, 1)

    error = refused(certificate, lambda: certificate.reinstate(META, day_after))
    assert error.rule == "certificate.suspension_expired"
    assert certificate.status_on(day_after) is CertificateStatus.SUSPENDED

    certificate.withdraw(META, "Suspension not resolved", day_after)
    assert certificate.status is CertificateStatus.WITHDRAWN


def test_an_active_certificate_cannot_be_reinstated():
    certificate = issued()
    error = refused(certificate, lambda: certificate.reinstate(META, date(2026, 3, 1)))
    assert error.rule == "certificate.not_suspended"


# -- withdraw ------------------------------------------------------------------


@pytest.mark.parametrize("given", [issued, suspended])
def test_withdraw_records_the_reason(given):
    certificate = given()
    certificate.withdraw(META, "Misuse of the mark", date(2026, 5, 1))

    [event] = certificate.collect_events()
    assert isinstance(event, Certificate.Withdrawn)
    assert (event.reason, event.withdrawn_on) == (
        "Misuse of the mark",
        date(2026, 5, 1),
    )
    assert certificate.status is CertificateStatus.WITHDRAWN


LATER = date(2026, 6, 1)
EVERY_COMMAND = {
    "suspend": lambda c: c.suspend(META, "Complaint", LATER),
    "suspend with a blank reason": lambda c: c.suspend(META, " ", LATER),
    "reinstate": lambda c: c.reinstate(META, LATER),
    "withdraw": lambda c: c.withdraw(META, "Again", LATER),
    "expire": lambda c: c.expire(META, EXPIRES),
    "mark_superseded": lambda c: c.mark_superseded(META, uuid4(), LATER),
    "issue_revision": lambda c: Certificate.issue_revision(META, c, **revision_terms()),
}


@pytest.mark.parametrize("command", EVERY_COMMAND.values(), ids=EVERY_COMMAND)
@pytest.mark.parametrize("given", [issued, suspended])
def test_a_withdrawn_certificate_accepts_nothing(given, command):
    certificate = given()
    certificate.withdraw(META, "Misuse of the mark", date(2026, 5, 1))
    certificate.collect_events()

    error = refused(certificate, lambda: command(certificate))
    assert error.rule == "certificate.withdrawn"
    assert certificate.status is CertificateStatus.WITHDRAWN


# -- expire --------------------------------------------------------------------


def test_expire_is_refused_before_the_expiry_date():
    certificate = issued()
    day_before = EXPIRES - timedelta(days=1)
    error = refused(certificate, lambda: certificate.expire(META, day_before))
    assert error.rule == "certificate.not_yet_expired"


@pytest.mark.parametrize("given", [issued, suspended])
def test_expire_from_the_expiry_date(given):
    certificate = given()
    certificate.expire(META, EXPIRES)

    [event] = certificate.collect_events()
    assert isinstance(event, Certificate.Expired)
    assert event.expired_on == EXPIRES
    assert certificate.status is CertificateStatus.EXPIRED


@pytest.mark.parametrize(
    "command", ["suspend", "expire", "withdraw", "issue_revision", "mark_superseded"]
)
def test_an_expired_certificate_accepts_nothing_more(command):
    certificate = issued()
    certificate.expire(META, EXPIRES)
    certificate.collect_events()

    error = refused(certificate, lambda: EVERY_COMMAND[command](certificate))
    assert error.rule == "certificate.expired"


# -- revisions -----------------------------------------------------------------


def test_issue_revision_keeps_the_number_and_points_at_the_previous_one():
    previous = issued()
    revision = Certificate.issue_revision(
        META, previous, **revision_terms(standard_edition="2025")
    )

    [event] = revision.collect_events()
    assert isinstance(event, Certificate.Issued)
    assert (event.number, event.revision, event.supersedes) == (
        "ACME-2026-000123",
        2,
        previous.id,
    )
    assert revision.id != previous.id
    assert revision.verification_code != previous.verification_code
    assert (revision.organization_id, revision.standard_name) == (ORG, "ISO 9001")
    assert revision.standard_edition == "2025"
    assert revision.sites == (
        CertifiedSite(SITE_A, "Design and manufacture of widgets"),
    )
    assert revision.audit_id == RENEWAL_AUDIT
    assert previous.collect_events() == []
    assert previous.status is CertificateStatus.ACTIVE


def test_mark_superseded_keeps_the_old_revision_readable():
    previous = issued()
    revision = Certificate.issue_revision(META, previous, **revision_terms())
    previous.mark_superseded(META, by=revision.id, on=date(2026, 9, 2))

    [event] = previous.collect_events()
    assert isinstance(event, Certificate.Superseded)
    assert (event.superseded_by, event.superseded_on) == (revision.id, date(2026, 9, 2))
    assert previous.status is CertificateStatus.SUPERSEDED
    assert previous.superseded_by == revision.id
    assert (previous.number, previous.revision, previous.expiry_date) == (
        "ACME-2026-000123",
        1,
        EXPIRES,
    )
    assert not previous.is_active_on(date(2026, 10, 1))


def test_a_suspended_certificate_cannot_be_renewed_until_reinstated():
    previous = suspended()
    error = refused(
        previous, lambda: Certificate.issue_revision(META, previous, **revision_terms())
    )
    assert error.rule == "certificate.suspended"

    previous.reinstate(META, date(2026, 4, 1))
    revision = Certificate.issue_revision(META, previous, **revision_terms())
    assert revision.revision == 2


def test_a_suspended_certificate_cannot_be_marked_superseded():
    previous = suspended()
    error = refused(
        previous, lambda: previous.mark_superseded(META, uuid4(), date(2026, 9, 2))
    )
    assert error.rule == "certificate.suspended"


def test_a_superseded_revision_cannot_be_revised_or_changed_again():
    previous = issued()
    second = Certificate.issue_revision(META, previous, **revision_terms())
    previous.mark_superseded(META, by=second.id, on=date(2026, 9, 2))
    previous.collect_events()

    for command in ("issue_revision", "suspend", "withdraw", "mark_superseded"):
        error = refused(previous, lambda c=command: EVERY_COMMAND[c](previous))
        assert error.rule == "certificate.superseded"

    third = Certificate.issue_revision(
        META, second, **revision_terms(issue_date=date(2026, 10, 1))
    )
    assert (third.revision, third.supersedes, third.number) == (
        3,
        second.id,
        previous.number,
    )


def test_superseded_cannot_be_dated_before_the_last_change():
    certificate = suspended(on=date(2026, 3, 1))
    certificate.reinstate(META, date(2026, 4, 1))
    certificate.collect_events()
    error = refused(
        certificate,
        lambda: certificate.mark_superseded(META, uuid4(), date(2026, 3, 31)),
    )
    assert isinstance(error, InvalidValueError)
    assert error.field == "on"


def test_a_certificate_cannot_supersede_itself():
    certificate = issued()
    error = refused(
        certificate, lambda: certificate.mark_superseded(META, certificate.id, LATER)
    )
    assert isinstance(error, InvalidValueError)
    assert error.field == "by"


@pytest.mark.parametrize(
    ("terms", "rule"),
    [
        (
            {"effective_date": date(2026, 8, 31)},
            "certificate.effective_before_decision",
        ),
        ({"expiry_date": date(2029, 9, 2)}, "certificate.validity_too_long"),
    ],
)
def test_revisions_obey_the_validity_rules(terms, rule):
    previous = issued()
    with pytest.raises(RuleViolationError) as raised:
        Certificate.issue_revision(META, previous, **revision_terms(**terms))
    assert raised.value.rule == rule
    assert previous.collect_events() == []


def test_a_revision_cannot_be_issued_before_the_previous_last_change():
    previous = issued()
    previous.suspend(META, "Complaint", date(2026, 3, 1), max_suspension_days=200)
    previous.reinstate(META, date(2026, 9, 5))
    previous.collect_events()
    error = refused(
        previous, lambda: Certificate.issue_revision(META, previous, **revision_terms())
    )
    assert isinstance(error, InvalidValueError)
    assert error.field == "issue_date"


def test_another_tenant_cannot_revise_the_certificate():
    previous = issued()
    with pytest.raises(NotFoundError):
        Certificate.issue_revision(OTHER_TENANT, previous, **revision_terms())


# -- status on a day -----------------------------------------------------------


def test_status_on_reports_expired_without_changing_the_recorded_status():
    certificate = issued()

    assert not certificate.is_active_on(DECIDED - timedelta(days=1))
    assert certificate.is_active_on(DECIDED)
    assert certificate.is_active_on(EXPIRES - timedelta(days=1))
    assert not certificate.is_active_on(EXPIRES)
    assert certificate.status_on(EXPIRES) is CertificateStatus.EXPIRED
    assert certificate.status is CertificateStatus.ACTIVE
    assert certificate.collect_events() == []


def test_a_suspended_certificate_is_not_active():
    certificate = suspended()
    assert certificate.status_on(date(2026, 4, 1)) is CertificateStatus.SUSPENDED
    assert not certificate.is_active_on(date(2026, 4, 1))
    assert certificate.status_on(EXPIRES) is CertificateStatus.EXPIRED


# -- persistence ---------------------------------------------------------------


def test_a_certificate_reads_back_the_same_from_the_event_store():
    store = LibraryEventStore(in_memory_env())
    previous = Certificate.issue(META, **issue_terms())
    previous.suspend(META, "Complaint", date(2026, 3, 1))
    previous.reinstate(META, date(2026, 4, 1))
    revision = Certificate.issue_revision(META, previous, **revision_terms())
    previous.mark_superseded(META, revision.id, date(2026, 9, 2))
    store.append(previous)
    store.append(revision)

    loaded = store.load(Certificate, previous.id)
    assert loaded == previous
    assert loaded is not None
    assert loaded.sites == previous.sites
    assert isinstance(loaded.sites, tuple)
    assert loaded.status is CertificateStatus.SUPERSEDED
    assert store.load(Certificate, revision.id) == revision
