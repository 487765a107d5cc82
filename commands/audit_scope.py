"""Which audits a command may act on, and the one way a command changes one.

The caller sees an audit when its organization scope admits the audit's
organization and its audit scope, if it has one, admits the audit; any other
audit is answered as not found, like another tenant's.

The audit team's roles give rights on that audit: an observer follows the
audit (reads it) but does not conduct it, even when their tenant role would
let them conduct audits; lead auditor, auditors and technical experts
conduct it (only the lead and auditors verify corrective actions, a rule of
the audit itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from commands.context import Accepted, CommandContext
from commands.handling import AggregateHandler
from commands.ports import JSON
from domain.access import Permission
from domain.audit import Audit
from domain.audit_prerequisites import check_clause
from domain.errors import PermissionDeniedError
from domain.principal import Principal, Role
from domain.standard_template import StandardTemplate


class AuditCommand(Protocol):
    """What every command on an existing audit names."""

    @property
    def audit_id(self) -> UUID: ...

    @property
    def expected_version(self) -> int | None: ...


def may_see_audit(principal: Principal, audit: Audit) -> bool:
    """Whether the caller's organization and audit scopes admit ``audit``."""
    return principal.may_see_organization(audit.organization_id) and (
        principal.audit_ids is None or audit.id in principal.audit_ids
    )


_CONDUCTORS_BY_ROLE = frozenset({Role.TENANT_ADMIN, Role.PROGRAMME_MANAGER})


def may_conduct(principal: Principal, audit: Audit) -> bool:
    """Whether the caller may conduct ``audit`` (an observer on its team may
    not, unless a manager role lets them act on every audit)."""
    return principal.actor_id not in audit.team.observers or principal.has_any_role(
        _CONDUCTORS_BY_ROLE
    )


def change_audit(
    handler: AggregateHandler,
    ctx: CommandContext,
    permission: Permission,
    cmd: AuditCommand,
    decide: Callable[[Audit], object],
) -> tuple[Accepted, JSON]:
    """Run ``decide`` on the audit ``cmd`` names, within the caller's scopes.

    Raises:
        NotFoundError: no such audit in the caller's tenant and scopes.
    """
    return handler.change(
        ctx,
        permission,
        Audit,
        cmd.audit_id,
        cmd.expected_version,
        _conducting(ctx, permission, decide),
        visible=lambda audit: may_see_audit(ctx.principal, audit),
    )


def _conducting(
    ctx: CommandContext, permission: Permission, decide: Callable[[Audit], object]
) -> Callable[[Audit], object]:
    """``decide``, refused to an observer of the audit when the command
    conducts it."""
    if permission is not Permission.AUDIT_CONDUCT:
        return decide

    def checked(audit: Audit) -> object:
        if not may_conduct(ctx.principal, audit):
            raise PermissionDeniedError(
                permission=f"{permission.value} (observers of audit {audit.id} "
                "follow it but do not conduct it)",
                actor=ctx.principal.actor_id,
            )
        return decide(audit)

    return checked


def accept_audit(
    handler: AggregateHandler,
    ctx: CommandContext,
    permission: Permission,
    cmd: AuditCommand,
    decide: Callable[[Audit], object],
) -> Accepted:
    """:func:`change_audit`, answered the way every command answers."""
    return change_audit(handler, ctx, permission, cmd, decide)[0]


def with_clause_check(
    handler: AggregateHandler,
    ctx: CommandContext,
    clause_id: str,
    decide: Callable[[Audit], object],
) -> Callable[[Audit], object]:
    """``decide``, preceded by the check that ``clause_id`` belongs to the
    standard-template version the audit works from."""

    def checked(audit: Audit) -> object:
        template = handler.load(ctx, StandardTemplate, audit.standard_template_id)
        check_clause(audit, template, clause_id)
        return decide(audit)

    return checked
