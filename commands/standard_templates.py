"""Commands on standard templates (the checklists audits work from)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from commands.context import Accepted, CommandContext
from commands.handling import AggregateHandler
from commands.ports import EventStore
from domain.access import Permission
from domain.standard_template import StandardTemplate


@dataclass(frozen=True)
class DraftStandardTemplate:
    standard_name: str
    edition: str
    title: str


@dataclass(frozen=True)
class AddClause:
    template_id: UUID
    clause_id: str
    title: str
    text: str
    parent_id: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class ChangeClause:
    template_id: UUID
    clause_id: str
    title: str
    text: str
    expected_version: int | None = None


@dataclass(frozen=True)
class RemoveClause:
    template_id: UUID
    clause_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class TemplateAction:
    """A command that names only the template (publish, new draft, retire)."""

    template_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class Published(Accepted):
    template_version: int


class StandardTemplateService:
    """Application service whose methods are the standard-template commands."""

    def __init__(self, store: EventStore) -> None:
        self._handler = AggregateHandler(store)

    def draft(self, ctx: CommandContext, cmd: DraftStandardTemplate) -> Accepted:
        """Start a template lineage with an empty draft (version 1)."""
        return self._handler.create(
            ctx,
            Permission.TEMPLATE_MANAGE,
            lambda: StandardTemplate.draft(
                ctx.meta(), cmd.standard_name, cmd.edition, cmd.title
            ),
        )

    def add_clause(self, ctx: CommandContext, cmd: AddClause) -> Accepted:
        """Add a clause to the open draft."""
        return self._accept(
            ctx,
            cmd.template_id,
            cmd.expected_version,
            lambda t: t.add_clause(
                ctx.meta(), cmd.clause_id, cmd.title, cmd.text, cmd.parent_id
            ),
        )

    def change_clause(self, ctx: CommandContext, cmd: ChangeClause) -> Accepted:
        """Change a draft clause's title and text."""
        return self._accept(
            ctx,
            cmd.template_id,
            cmd.expected_version,
            lambda t: t.change_clause(ctx.meta(), cmd.clause_id, cmd.title, cmd.text),
        )

    def remove_clause(self, ctx: CommandContext, cmd: RemoveClause) -> Accepted:
        """Remove a draft clause that has no children."""
        return self._accept(
            ctx,
            cmd.template_id,
            cmd.expected_version,
            lambda t: t.remove_clause(ctx.meta(), cmd.clause_id),
        )

    def publish(self, ctx: CommandContext, cmd: TemplateAction) -> Published:
        """Freeze the open draft as the next published version."""
        accepted, number = self._handler.change(
            ctx,
            Permission.TEMPLATE_MANAGE,
            StandardTemplate,
            cmd.template_id,
            cmd.expected_version,
            lambda t: t.publish(ctx.meta(), ctx.today),
        )
        return Published(
            accepted.id, accepted.version, accepted.position, int(str(number))
        )

    def start_new_draft(self, ctx: CommandContext, cmd: TemplateAction) -> Accepted:
        """Open a new draft copied from the latest published version."""
        return self._accept(
            ctx,
            cmd.template_id,
            cmd.expected_version,
            lambda t: t.start_new_draft(ctx.meta()),
        )

    def retire(self, ctx: CommandContext, cmd: TemplateAction) -> Accepted:
        """Accept no more drafts or publications (versions stay readable)."""
        return self._accept(
            ctx,
            cmd.template_id,
            cmd.expected_version,
            lambda t: t.retire(ctx.meta(), ctx.today),
        )

    def _accept(
        self,
        ctx: CommandContext,
        template_id: UUID,
        expected_version: int | None,
        decide: Callable[[StandardTemplate], object],
    ) -> Accepted:
        return self._handler.accept(
            ctx,
            Permission.TEMPLATE_MANAGE,
            StandardTemplate,
            template_id,
            expected_version,
            decide,
        )
