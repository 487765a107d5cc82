"""Read-only state of the audit aggregate, and the checks commands make on it.

:class:`domain.audit.Audit` sets these attributes in its ``__init__`` and in
its events' ``apply`` methods only. The command mixins
(:mod:`domain.audit_planning`, :mod:`domain.audit_findings`,
:mod:`domain.audit_review`) read them through this class and use its checks,
which raise a domain error naming the rule and the ids involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Self
from uuid import UUID

from eventsourcing.domain import CanInitAggregate, CanMutateAggregate

from domain.audit_values import (
    FINISHED,
    Assessment,
    AuditStatus,
    AuditType,
    Decision,
    Finding,
    FindingStatus,
    Grade,
    Team,
    finding_ids,
)
from domain.errors import RuleViolationError


class AuditState:
    """The state of one audit, as its events left it.

    Read-only outside :class:`domain.audit.Audit`'s ``__init__`` and
    ``apply`` methods. Findings and assessments are read through
    :attr:`findings` and :attr:`assessments`; ``_involved`` holds everyone
    who ever took part in the audit (on its team, its technical reviewer, or
    a verifier of a corrective action).
    """

    tenant_id: str
    organization_id: UUID
    site_ids: tuple[UUID, ...]
    standard_template_id: UUID
    standard_version: int
    standard_name: str
    standard_edition: str
    audit_type: AuditType
    planned_start: date
    planned_end: date
    scope_statement: str
    status: AuditStatus
    team: Team
    started_on: date | None
    cancellation_reason: str | None
    report_summary: str | None
    technical_reviewer: str | None
    review_comments: str | None
    decision: Decision | None
    past_decisions: tuple[Decision, ...]
    reopen_reasons: tuple[str, ...]
    _assessments: dict[str, Assessment]
    _findings: dict[UUID, Finding]
    _involved: frozenset[str]

    if TYPE_CHECKING:
        # Provided by eventsourcing's Aggregate, which Audit inherits after
        # this class; declared for the type checker only, so that the mixins
        # type-check on their own without shadowing the real methods.

        @property
        def id(self) -> UUID: ...

        version: int

        def trigger_event(
            self, event_class: type[CanMutateAggregate[UUID]], **kwargs: object
        ) -> None: ...

        @classmethod
        def _create(
            cls,
            event_class: type[CanInitAggregate[UUID]],
            *,
            id: UUID | None = None,
            **kwargs: object,
        ) -> Self: ...

    # -- read-only helpers -------------------------------------------------

    @property
    def findings(self) -> Mapping[UUID, Finding]:
        """Every finding of the audit by id, in the order raised."""
        return MappingProxyType(self._findings)

    @property
    def assessments(self) -> Mapping[str, Assessment]:
        """The latest assessment of each clause, by clause id."""
        return MappingProxyType(self._assessments)

    def team_members(self) -> frozenset[str]:
        """Actor ids of everyone now on the team, whatever their role."""
        return self.team.members()

    def open_majors(self) -> list[Finding]:
        """Major nonconformities not yet verified effective, closed or dismissed."""
        return [
            f
            for f in self._findings.values()
            if f.grade is Grade.MAJOR_NONCONFORMITY and not f.is_resolved
        ]

    def minors_without_accepted_plan(self) -> list[Finding]:
        """Minor nonconformities whose client response is not (yet) accepted."""
        return [
            f
            for f in self._findings.values()
            if f.grade is Grade.MINOR_NONCONFORMITY
            and f.status
            in (FindingStatus.AWAITING_RESPONSE, FindingStatus.RESPONSE_SUBMITTED)
        ]

    # -- checks made by commands -------------------------------------------

    def _require(self, command: str, *allowed: AuditStatus) -> None:
        if self.status is AuditStatus.CANCELLED:
            raise RuleViolationError(
                "audit.cancelled", f"audit {self.id} is cancelled: cannot {command}"
            )
        if self.status is AuditStatus.CLOSED and command != "reopen":
            raise RuleViolationError(
                "audit.closed",
                f"audit {self.id} is closed: cannot {command} (only reopen)",
            )
        if self.status not in allowed:
            raise RuleViolationError(
                "audit.invalid_transition",
                f"audit {self.id} is {self.status.value}: cannot {command}",
            )

    def _finding(self, finding_id: UUID, command: str) -> Finding:
        finding = self._findings.get(finding_id)
        if finding is None:
            raise RuleViolationError(
                "audit.unknown_finding",
                f"audit {self.id} has no finding {finding_id} to {command}",
            )
        return finding

    def _open_finding(self, finding_id: UUID, command: str) -> Finding:
        finding = self._finding(finding_id, command)
        if finding.status in FINISHED:
            raise RuleViolationError(
                "audit.invalid_finding_transition",
                f"finding {finding_id} of audit {self.id} is "
                f"{finding.status.value}: cannot {command}",
            )
        return finding

    def _nonconformity(self, finding_id: UUID, command: str) -> Finding:
        finding = self._finding(finding_id, command)
        if not finding.grade.is_nonconformity:
            raise RuleViolationError(
                "audit.not_a_nonconformity",
                f"finding {finding_id} of audit {self.id} is an {finding.grade.value}"
                f" and needs no corrective action: cannot {command}",
            )
        return finding

    def _check_finding(
        self, finding: Finding, command: str, *allowed: FindingStatus
    ) -> None:
        if finding.status not in allowed:
            raise RuleViolationError(
                "audit.invalid_finding_transition",
                f"finding {finding.id} of audit {self.id} is "
                f"{finding.status.value}: cannot {command}",
            )

    def _check_no_open_major(self, command: str) -> None:
        if majors := self.open_majors():
            raise RuleViolationError(
                "audit.unverified_major_nonconformity",
                f"audit {self.id} cannot {command}: major nonconformities "
                f"{finding_ids(majors)} are not verified effective",
            )
