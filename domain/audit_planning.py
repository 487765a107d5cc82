"""Planning commands of the audit aggregate: plan, details, team, start, cancel.

Mixed into :class:`domain.audit.Audit`, which defines the events triggered
here; see that module for the lifecycle and the statuses each command accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, ClassVar, Self
from uuid import UUID, uuid4

from domain.audit_state import AuditState
from domain.audit_values import (
    EDITION_MAX,
    NAME_MAX,
    TEXT_MAX,
    WORK,
    AuditStatus,
    AuditType,
    Team,
    audit_sites,
    parse_enum,
)
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta
from domain.values import bounded_text, date_range

if TYPE_CHECKING:
    from domain.audit import Audit


class PlanningCommands(AuditState):
    """Planning an audit, commands on a planned audit, and its team."""

    if TYPE_CHECKING:
        # The events, defined on Audit (domain.audit) so that their
        # topics stay domain.audit:Audit.<Name>; declared for mypy only.
        Planned: ClassVar[type[Audit.Planned]]
        DetailsChanged: ClassVar[type[Audit.DetailsChanged]]
        TeamAssigned: ClassVar[type[Audit.TeamAssigned]]
        Started: ClassVar[type[Audit.Started]]
        Cancelled: ClassVar[type[Audit.Cancelled]]

    @classmethod
    def plan(
        cls,
        meta: EventMeta,
        *,
        organization_id: UUID,
        site_ids: Iterable[UUID],
        standard_template_id: UUID,
        standard_version: int,
        standard_name: str,
        standard_edition: str,
        audit_type: AuditType | str,
        planned_start: date,
        planned_end: date,
        scope_statement: str,
    ) -> Self:
        """Plan an audit of some sites of an organization against a standard.

        Raises:
            InvalidValueError: no site, planned end before planned start,
                blank scope statement, standard name or edition, version
                below 1, unknown audit type.
        """
        if standard_version < 1:
            raise InvalidValueError(
                "standard_version", "standard_version must be at least 1"
            )
        date_range(planned_start, planned_end, "planned_start", "planned_end")
        return cls._create(
            cls.Planned,
            id=uuid4(),
            meta=meta,
            organization_id=organization_id,
            site_ids=audit_sites(site_ids),
            standard_template_id=standard_template_id,
            standard_version=standard_version,
            standard_name=bounded_text(standard_name, "standard_name", NAME_MAX),
            standard_edition=bounded_text(
                standard_edition, "standard_edition", EDITION_MAX
            ),
            audit_type=parse_enum(AuditType, audit_type, "audit_type").value,
            planned_start=planned_start,
            planned_end=planned_end,
            scope_statement=bounded_text(
                scope_statement, "scope_statement", TEXT_MAX, multiline=True
            ),
        )

    def change_details(
        self,
        meta: EventMeta,
        *,
        planned_start: date,
        planned_end: date,
        scope_statement: str,
        site_ids: Iterable[UUID],
    ) -> None:
        """Replace the planned dates, scope statement and sites.

        Raises:
            InvalidValueError: as for :meth:`plan`.
            RuleViolationError: the audit is no longer planned
                (``audit.invalid_transition``, ``audit.cancelled``,
                ``audit.closed``); nothing changes (``audit.details_unchanged``).
        """
        self._require("change_details", AuditStatus.PLANNED)
        date_range(planned_start, planned_end, "planned_start", "planned_end")
        sites = audit_sites(site_ids)
        scope = bounded_text(
            scope_statement, "scope_statement", TEXT_MAX, multiline=True
        )
        new = (planned_start, planned_end, scope, sites)
        old = (self.planned_start, self.planned_end, self.scope_statement)
        if new == (*old, self.site_ids):
            raise RuleViolationError(
                "audit.details_unchanged", f"audit {self.id} already has these details"
            )
        self.trigger_event(
            self.DetailsChanged,
            meta=meta,
            planned_start=planned_start,
            planned_end=planned_end,
            scope_statement=scope,
            site_ids=sites,
        )

    def assign_team(
        self,
        meta: EventMeta,
        lead_auditor: str | None,
        auditors: Iterable[str] = (),
        technical_experts: Iterable[str] = (),
        observers: Iterable[str] = (),
    ) -> None:
        """Assign the whole team (replacing the current one), by actor id.

        Raises:
            InvalidValueError: a blank actor id, or one person in two places.
            RuleViolationError: not planned nor in progress
                (``audit.invalid_transition`` …); a started audit left without
                lead auditor (``audit.no_lead_auditor``); the technical
                reviewer put on the team (``audit.reviewer_not_independent``);
                the same team (``audit.team_unchanged``).
        """
        self._require("assign_team", AuditStatus.PLANNED, *WORK)
        team = Team.of(lead_auditor, auditors, technical_experts, observers)
        if team.lead_auditor is None and self.status is not AuditStatus.PLANNED:
            raise RuleViolationError(
                "audit.no_lead_auditor",
                f"audit {self.id} has started and must keep a lead auditor",
            )
        if self.technical_reviewer in team.members():
            raise RuleViolationError(
                "audit.reviewer_not_independent",
                f"{self.technical_reviewer} is the technical reviewer of audit "
                f"{self.id} and cannot join its team",
            )
        if team == self.team:
            raise RuleViolationError(
                "audit.team_unchanged", f"audit {self.id} already has this team"
            )
        self.trigger_event(
            self.TeamAssigned,
            meta=meta,
            lead_auditor=team.lead_auditor,
            auditors=team.auditors,
            technical_experts=team.technical_experts,
            observers=team.observers,
        )

    def start(self, meta: EventMeta, on: date) -> None:
        """Start (schedule) the audit on ``on``.

        Planned dates are always present (``plan`` requires them), so the
        lead auditor is what remains to check.

        Raises:
            RuleViolationError: not planned (``audit.invalid_transition`` …);
                no lead auditor assigned (``audit.no_lead_auditor``).
        """
        self._require("start", AuditStatus.PLANNED)
        if self.team.lead_auditor is None:
            raise RuleViolationError(
                "audit.no_lead_auditor",
                f"audit {self.id} cannot be scheduled without a lead auditor",
            )
        self.trigger_event(self.Started, meta=meta, started_on=on)

    def cancel(self, meta: EventMeta, reason: str) -> None:
        """Cancel the audit; only before it starts.

        Raises:
            InvalidValueError: blank reason.
            RuleViolationError: the audit has started (``audit.invalid_transition``)
                or is cancelled already (``audit.cancelled``).
        """
        self._require("cancel", AuditStatus.PLANNED)
        text = bounded_text(reason, "reason", TEXT_MAX, multiline=True)
        self.trigger_event(self.Cancelled, meta=meta, reason=text)
