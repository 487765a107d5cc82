"""When a certificate's next surveillance audit is due, and whether one is in
hand: pure rules for the scheduler's ``surveillance_due`` job.

ISO/IEC 17021-1 (9.6.2.2) asks for a surveillance audit at least once a
calendar year, the first no later than 12 months from the certification
decision. The certificate records no surveillance dates, so they follow
from it: the anniversaries of its ``decision_date``, one per year of its
validity except the last (which ends in recertification, not
surveillance). A certificate valid for three years has two surveillances,
one valid for a year none.

A surveillance is in hand when the organization has a surveillance audit of
the same standard that is open (planned up to review approved) or that was
planned to start in the current cycle (since the decision, or since the
previous surveillance's due date), so one held early counts too; a cancelled
audit never does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domain.audit_values import AuditStatus
from domain.certificate_values import years_after

SURVEILLANCE_NOTICE_DAYS = 60
"""How far ahead of its due date a surveillance nobody planned is reported."""

_DONE = frozenset({AuditStatus.DECIDED, AuditStatus.CLOSED})


@dataclass(frozen=True)
class SurveillanceDue:
    """One surveillance of a certificate.

    Attributes:
        cycle: 1 for the first surveillance after the decision, 2 next, ….
        since: Start of the cycle: the decision date or the previous due date.
        due: The day the surveillance audit is due by.
    """

    cycle: int
    since: date
    due: date


def next_surveillance(
    decision_date: date, effective_date: date, expiry_date: date, on: date
) -> SurveillanceDue | None:
    """The certificate's first surveillance due on or after ``on``
    (``None``: no surveillance is left before it expires)."""
    cycle = 1
    while years_after(effective_date, cycle) < expiry_date:
        due = years_after(decision_date, cycle)
        if due >= on:
            return SurveillanceDue(cycle, years_after(decision_date, cycle - 1), due)
        cycle += 1
    return None


@dataclass(frozen=True)
class SurveillanceAudit:
    """What the rule reads of a surveillance audit of the same organization
    and standard."""

    status: AuditStatus
    planned_start: date


def surveillance_in_hand(audits: Iterable[SurveillanceAudit], since: date) -> bool:
    """Whether one of ``audits`` covers the cycle that began on ``since``."""
    return any(
        audit.status is not AuditStatus.CANCELLED
        and (audit.status not in _DONE or audit.planned_start >= since)
        for audit in audits
    )
