"""Enums, value objects, limits and value checks of the :mod:`domain.audit` aggregate.

Everything here is immutable and lives in the aggregate's state only: events
carry plain ``str``/``UUID``/``date`` fields and ``apply`` builds these values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from domain.errors import InvalidValueError
from domain.values import bounded_text

ACTOR_MAX = 200
NAME_MAX = 200
EDITION_MAX = 50
CLAUSE_MAX = 50
TEXT_MAX = 4000
REPORT_MAX = 20000

E = TypeVar("E", bound=StrEnum)


def parse_enum(kind: type[E], value: E | str, field: str) -> E:
    """``value`` as a member of ``kind``.

    Raises:
        InvalidValueError: ``value`` is not one of the enum's values.
    """
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidValueError(
            field, f"{field} must be one of {allowed}, not {value!r}"
        ) from None


class AuditType(StrEnum):
    """Why the audit is held in the certification cycle."""

    STAGE_1 = "stage_1"
    STAGE_2 = "stage_2"
    SURVEILLANCE = "surveillance"
    RECERTIFICATION = "recertification"
    SPECIAL = "special"


class AuditStatus(StrEnum):
    """Where the audit is in its lifecycle.

    ``planned`` → ``in_progress`` ⇄ ``report_drafted`` → ``under_review`` →
    ``review_approved`` (or back to ``in_progress``) → ``decided`` → ``closed``
    (→ ``in_progress`` when reopened). ``planned`` → ``cancelled``.
    """

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    REPORT_DRAFTED = "report_drafted"
    UNDER_REVIEW = "under_review"
    REVIEW_APPROVED = "review_approved"
    DECIDED = "decided"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ClauseResult(StrEnum):
    """The auditor's conclusion on one clause of the standard."""

    CONFORMING = "conforming"
    NONCONFORMING = "nonconforming"
    NOT_APPLICABLE = "not_applicable"
    NOT_ASSESSED = "not_assessed"


class Grade(StrEnum):
    """How serious a finding is."""

    MAJOR_NONCONFORMITY = "major_nonconformity"
    MINOR_NONCONFORMITY = "minor_nonconformity"
    OBSERVATION = "observation"
    OPPORTUNITY_FOR_IMPROVEMENT = "opportunity_for_improvement"

    @property
    def is_nonconformity(self) -> bool:
        """Whether the client owes a correction and corrective action."""
        return self in (Grade.MAJOR_NONCONFORMITY, Grade.MINOR_NONCONFORMITY)


class FindingStatus(StrEnum):
    """Where a finding is in its corrective-action lifecycle.

    A nonconformity: ``awaiting_response`` → ``response_submitted`` →
    ``response_accepted`` (or back to ``awaiting_response`` when rejected) →
    ``action_implemented`` → ``verified`` → ``closed``. An observation or
    opportunity for improvement asks nothing of the client: it is ``noted``
    until ``closed``. Any open status → ``dismissed``. Regrading between the
    two kinds moves ``noted`` and ``awaiting_response`` into each other
    (see :func:`status_after_regrade`).
    """

    NOTED = "noted"
    AWAITING_RESPONSE = "awaiting_response"
    RESPONSE_SUBMITTED = "response_submitted"
    RESPONSE_ACCEPTED = "response_accepted"
    ACTION_IMPLEMENTED = "action_implemented"
    VERIFIED = "verified"
    CLOSED = "closed"
    DISMISSED = "dismissed"


RESOLVED = frozenset(
    {FindingStatus.VERIFIED, FindingStatus.CLOSED, FindingStatus.DISMISSED}
)
"""Finding statuses that no longer hold up closing the audit."""

FINISHED = frozenset({FindingStatus.CLOSED, FindingStatus.DISMISSED})
"""Finding statuses that accept no further change."""

ACTION_DUE = frozenset(
    {
        FindingStatus.AWAITING_RESPONSE,
        FindingStatus.RESPONSE_SUBMITTED,
        FindingStatus.RESPONSE_ACCEPTED,
    }
)
"""Finding statuses in which the corrective action is still to be done."""


def initial_status(grade: Grade) -> FindingStatus:
    """The status a newly raised finding of ``grade`` starts in."""
    if grade.is_nonconformity:
        return FindingStatus.AWAITING_RESPONSE
    return FindingStatus.NOTED


def status_after_regrade(status: FindingStatus, grade: Grade) -> FindingStatus:
    """A finding's status once regraded to ``grade`` from ``status``.

    A noted observation regraded to a nonconformity now awaits the client's
    response; a nonconformity still awaiting one regraded to an observation
    or opportunity for improvement owes nothing any more. Any other status
    (a response already given, the action done) is kept.
    """
    if status in (FindingStatus.NOTED, FindingStatus.AWAITING_RESPONSE):
        return initial_status(grade)
    return status


WORK = (AuditStatus.IN_PROGRESS, AuditStatus.REPORT_DRAFTED)
"""Statuses in which the audit work (team, clauses, findings) may change."""
FOLLOW_UP = (
    *WORK,
    AuditStatus.UNDER_REVIEW,
    AuditStatus.REVIEW_APPROVED,
    AuditStatus.DECIDED,
)
"""Statuses in which responses and corrective-action steps may be recorded."""


class DecisionOutcome(StrEnum):
    """The certification decision."""

    GRANT = "grant"
    REFUSE = "refuse"


def actor_id(value: str, field: str) -> str:
    """An actor id: not blank, at most ``ACTOR_MAX`` characters.

    Raises:
        InvalidValueError: blank or too long, naming ``field``.
    """
    return bounded_text(value, field, ACTOR_MAX)


def audit_sites(site_ids: Iterable[UUID]) -> tuple[UUID, ...]:
    """The sites an audit covers: at least one, none repeated.

    Raises:
        InvalidValueError: no site, or a site listed twice (``site_ids``).
    """
    sites = tuple(site_ids)
    if not sites:
        raise InvalidValueError("site_ids", "an audit covers at least one site")
    if len(set(sites)) != len(sites):
        raise InvalidValueError("site_ids", "site_ids must not repeat a site")
    return sites


def distinct_ids(values: Iterable[UUID]) -> tuple[UUID, ...]:
    """``values`` without repeats, in first-seen order."""
    return tuple(dict.fromkeys(values))


@dataclass(frozen=True)
class Team:
    """The people assigned to the audit, by actor id."""

    lead_auditor: str | None = None
    auditors: tuple[str, ...] = ()
    technical_experts: tuple[str, ...] = ()
    observers: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        lead_auditor: str | None,
        auditors: Iterable[str],
        technical_experts: Iterable[str],
        observers: Iterable[str],
    ) -> Team:
        """A validated team in which each person holds one place.

        Raises:
            InvalidValueError: a blank actor id, or one person in two places.
        """
        lead = None if lead_auditor is None else actor_id(lead_auditor, "lead_auditor")
        team = cls(
            lead,
            tuple(actor_id(a, "auditors") for a in auditors),
            tuple(actor_id(a, "technical_experts") for a in technical_experts),
            tuple(actor_id(a, "observers") for a in observers),
        )
        places = (*team.auditors, *team.technical_experts, *team.observers)
        if len(places) + (lead is not None) != len(team.members()):
            raise InvalidValueError("team", "each person may appear once in the team")
        return team

    def members(self) -> frozenset[str]:
        """Everyone on the team, whatever their role."""
        lead = () if self.lead_auditor is None else (self.lead_auditor,)
        return frozenset(
            (*lead, *self.auditors, *self.technical_experts, *self.observers)
        )

    def may_verify(self) -> frozenset[str]:
        """The lead auditor and the auditors (not experts nor observers)."""
        lead = () if self.lead_auditor is None else (self.lead_auditor,)
        return frozenset((*lead, *self.auditors))


@dataclass(frozen=True)
class Assessment:
    """The result recorded for one clause of the standard."""

    clause_id: str
    result: ClauseResult
    notes: str | None
    evidence_ids: tuple[UUID, ...]


@dataclass(frozen=True)
class ClientResponse:
    """The client's answer to a nonconformity."""

    root_cause: str
    correction: str
    corrective_action: str
    due_date: date


@dataclass(frozen=True)
class PastGrade:
    """A grade the finding had, and why it was changed."""

    grade: Grade
    change_reason: str


@dataclass(frozen=True)
class Finding:
    """A finding raised against a clause, with its corrective-action state.

    Attributes:
        response: The client's latest response (kept after a rejection, so
            the due date it promised still counts until a new one replaces it).
        rejection_reason: Why the latest response was rejected, if it was.
        past_grades: Earlier grades, oldest first, with the reason each was
            replaced.
        version: The audit's version when the finding last changed (the
            finding version a certification decision records).
    """

    id: UUID
    clause_id: str
    grade: Grade
    description: str
    objective_evidence: str
    evidence_ids: tuple[UUID, ...]
    raised_on: date
    status: FindingStatus = FindingStatus.AWAITING_RESPONSE
    response: ClientResponse | None = None
    rejection_reason: str | None = None
    implemented_on: date | None = None
    verified_by: str | None = None
    verified_on: date | None = None
    dismissal_reason: str | None = None
    past_grades: tuple[PastGrade, ...] = ()
    version: int = 0

    @property
    def is_resolved(self) -> bool:
        """Verified effective, closed or dismissed."""
        return self.status in RESOLVED

    def is_overdue(self, on: date) -> bool:
        """Whether the promised corrective action is late on ``on``.

        Only a nonconformity whose client gave a due date and whose action is
        not yet implemented (nor the finding closed or dismissed) can be late.
        """
        return (
            self.grade.is_nonconformity
            and self.response is not None
            and self.status in ACTION_DUE
            and on > self.response.due_date
        )


@dataclass(frozen=True)
class Decision:
    """The certification decision recorded on the audit.

    Attributes:
        audit_version: The audit's version the decision was taken on.
        template_version: The standard template's version the audit used.
        finding_versions: Each finding's version (by finding id) when the
            decision was taken.

    The three are ``None`` for decisions recorded before they were kept.
    """

    outcome: DecisionOutcome
    reasons: str
    decided_by: str
    decided_on: date
    audit_version: int | None = None
    template_version: int | None = None
    finding_versions: Mapping[str, int] | None = None


def finding_ids(findings: Sequence[Finding]) -> str:
    """The findings' ids, comma-separated, for an error message."""
    return ", ".join(str(f.id) for f in findings)
