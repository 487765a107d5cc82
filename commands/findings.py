"""Commands on the findings of an audit and their corrective actions.

Findings live inside the :class:`~domain.audit.Audit` aggregate, so each
command changes the audit and answers with its id and version;
:class:`FindingService` is reached as ``AuditService.findings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from commands.audit_scope import (
    accept_audit,
    change_audit,
    with_clause_check,
)
from commands.context import Accepted, CommandContext
from commands.handling import AggregateHandler
from domain.access import Permission


@dataclass(frozen=True)
class RaiseFinding:
    audit_id: UUID
    clause_id: str
    grade: str
    description: str
    objective_evidence: str
    evidence_ids: tuple[UUID, ...] = ()
    expected_version: int | None = None


@dataclass(frozen=True)
class RegradeFinding:
    audit_id: UUID
    finding_id: UUID
    grade: str
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class DismissFinding:
    audit_id: UUID
    finding_id: UUID
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class SubmitResponse:
    audit_id: UUID
    finding_id: UUID
    root_cause: str
    correction: str
    corrective_action: str
    due_date: date
    expected_version: int | None = None


@dataclass(frozen=True)
class RejectResponse:
    audit_id: UUID
    finding_id: UUID
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class FindingAction:
    """A command that names only the finding (accept the response, record the
    action implemented, verify it, close the finding)."""

    audit_id: UUID
    finding_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class FindingAccepted(Accepted):
    finding_id: UUID


class FindingService:
    """Application service whose methods are the finding commands."""

    def __init__(self, handler: AggregateHandler) -> None:
        self._handler = handler

    def raise_finding(self, ctx: CommandContext, cmd: RaiseFinding) -> FindingAccepted:
        """Raise a finding against a clause, dated today."""
        accepted, finding_id = change_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            with_clause_check(
                self._handler,
                ctx,
                cmd.clause_id,
                lambda audit: audit.raise_finding(
                    ctx.meta(),
                    cmd.clause_id,
                    cmd.grade,
                    cmd.description,
                    cmd.objective_evidence,
                    ctx.today,
                    cmd.evidence_ids,
                ),
            ),
        )
        return FindingAccepted(
            accepted.id, accepted.version, accepted.position, UUID(str(finding_id))
        )

    def regrade_finding(self, ctx: CommandContext, cmd: RegradeFinding) -> Accepted:
        """Change an open finding's grade."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            lambda audit: audit.regrade_finding(
                ctx.meta(), cmd.finding_id, cmd.grade, cmd.reason
            ),
        )

    def dismiss_finding(self, ctx: CommandContext, cmd: DismissFinding) -> Accepted:
        """Dismiss an open finding raised in error."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            lambda audit: audit.dismiss_finding(ctx.meta(), cmd.finding_id, cmd.reason),
        )

    def submit_response(self, ctx: CommandContext, cmd: SubmitResponse) -> Accepted:
        """Record the client's response to a nonconformity."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.FINDING_RESPOND,
            cmd,
            lambda audit: audit.submit_response(
                ctx.meta(),
                cmd.finding_id,
                cmd.root_cause,
                cmd.correction,
                cmd.corrective_action,
                cmd.due_date,
            ),
        )

    def accept_response(self, ctx: CommandContext, cmd: FindingAction) -> Accepted:
        """Accept the client's submitted response."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            lambda audit: audit.accept_response(ctx.meta(), cmd.finding_id),
        )

    def reject_response(self, ctx: CommandContext, cmd: RejectResponse) -> Accepted:
        """Reject the client's submitted response; a new one is awaited."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            lambda audit: audit.reject_response(ctx.meta(), cmd.finding_id, cmd.reason),
        )

    def implement_corrective_action(
        self, ctx: CommandContext, cmd: FindingAction
    ) -> Accepted:
        """Record that the client implemented the corrective action today."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.FINDING_RESPOND,
            cmd,
            lambda audit: audit.implement_corrective_action(
                ctx.meta(), cmd.finding_id, ctx.today
            ),
        )

    def verify_effectiveness(self, ctx: CommandContext, cmd: FindingAction) -> Accepted:
        """Record that the caller verified the corrective action effective today."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            lambda audit: audit.verify_effectiveness(
                ctx.meta(), cmd.finding_id, ctx.principal.actor_id, ctx.today
            ),
        )

    def close_finding(self, ctx: CommandContext, cmd: FindingAction) -> Accepted:
        """Close a finding (a nonconformity once verified effective)."""
        return accept_audit(
            self._handler,
            ctx,
            Permission.AUDIT_CONDUCT,
            cmd,
            lambda audit: audit.close_finding(ctx.meta(), cmd.finding_id),
        )
