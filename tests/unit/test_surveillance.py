"""When a certificate's next surveillance is due, when one is in hand, and
the reminder's text."""

from __future__ import annotations

from datetime import date

from domain.audit_values import AuditStatus
from domain.notifications import NotificationKind
from domain.surveillance import (
    SurveillanceAudit,
    SurveillanceDue,
    next_surveillance,
    surveillance_in_hand,
)
from infra.notifications.render import NotificationTemplates

DECIDED = date(2025, 3, 10)
EFFECTIVE = date(2025, 3, 20)
EXPIRY = date(2028, 3, 20)


def test_surveillances_fall_on_the_decisions_anniversaries():
    assert next_surveillance(DECIDED, EFFECTIVE, EXPIRY, date(2025, 4, 1)) == (
        SurveillanceDue(1, DECIDED, date(2026, 3, 10))
    )
    assert next_surveillance(DECIDED, EFFECTIVE, EXPIRY, date(2026, 3, 10)) == (
        SurveillanceDue(1, DECIDED, date(2026, 3, 10))
    )
    assert next_surveillance(DECIDED, EFFECTIVE, EXPIRY, date(2026, 3, 11)) == (
        SurveillanceDue(2, date(2026, 3, 10), date(2027, 3, 10))
    )


def test_the_last_year_ends_in_recertification_not_surveillance():
    # the third anniversary of the decision falls before the expiry date, but
    # it is the recertification's year
    assert next_surveillance(DECIDED, EFFECTIVE, EXPIRY, date(2027, 3, 11)) is None
    one_year = date(2026, 3, 20)
    assert next_surveillance(DECIDED, EFFECTIVE, one_year, date(2025, 4, 1)) is None


def test_a_shorter_validity_keeps_only_the_surveillances_before_it_ends():
    two_years = date(2027, 1, 1)
    assert next_surveillance(DECIDED, EFFECTIVE, two_years, date(2025, 4, 1)) == (
        SurveillanceDue(1, DECIDED, date(2026, 3, 10))
    )
    assert next_surveillance(DECIDED, EFFECTIVE, two_years, date(2026, 4, 1)) is None


def test_a_leap_day_decision_falls_due_on_the_28th():
    leap = date(2024, 2, 29)
    found = next_surveillance(leap, leap, date(2027, 2, 28), date(2024, 3, 1))
    assert found == SurveillanceDue(1, leap, date(2025, 2, 28))


def _audit(status: str, start: date) -> SurveillanceAudit:
    return SurveillanceAudit(AuditStatus(status), start)


def test_an_open_surveillance_audit_is_in_hand_whenever_it_was_planned():
    since = date(2026, 3, 10)
    for status in ("planned", "in_progress", "under_review", "review_approved"):
        assert surveillance_in_hand([_audit(status, date(2025, 1, 1))], since)


def test_a_finished_audit_counts_only_in_its_own_cycle():
    since = date(2026, 3, 10)
    assert surveillance_in_hand([_audit("closed", date(2026, 12, 1))], since)
    assert surveillance_in_hand([_audit("decided", since)], since)
    assert not surveillance_in_hand([_audit("closed", date(2026, 3, 9))], since)


def test_a_cancelled_audit_is_never_in_hand():
    since = date(2026, 3, 10)
    assert not surveillance_in_hand([_audit("cancelled", date(2026, 12, 1))], since)
    assert not surveillance_in_hand([], since)


def test_the_reminder_names_the_certificate_and_due_date_in_each_language():
    facts = {
        "name": "Åsa",
        "link": "https://app.example.test/certificates/1",
        "unsubscribe_url": "https://app.example.test/unsubscribe",
        "certificate": {"number": "NV-2026-000123", "standard_name": "ISO 9001"},
        "surveillance_due": date(2026, 3, 10),
    }
    for language, word in (("en", "surveillance"), ("de", "Überwachungsaudit")):
        mail = NotificationTemplates().render(
            NotificationKind.SURVEILLANCE_DUE, language, facts
        )
        assert "NV-2026-000123" in mail.subject
        assert "2026-03-10" in mail.subject
        assert word in mail.text
        assert "ISO 9001" in mail.html
