"""Commands on document templates (report and certificate layouts)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from commands.context import Accepted, CommandContext
from commands.handling import AggregateHandler
from commands.ports import EventStore
from domain.access import Permission
from domain.document_template import DocumentTemplate


@dataclass(frozen=True)
class Layout:
    title: str
    branding: str
    sections: tuple[str, ...]
    signature_block: str


@dataclass(frozen=True)
class CreateDocumentTemplate:
    kind: str
    layout: Layout


@dataclass(frozen=True)
class ReviseDocumentTemplate:
    template_id: UUID
    layout: Layout
    expected_version: int | None = None


@dataclass(frozen=True)
class RetireDocumentTemplate:
    template_id: UUID
    expected_version: int | None = None


class DocumentTemplateService:
    """Application service whose methods are the document-template commands."""

    def __init__(self, store: EventStore) -> None:
        self._handler = AggregateHandler(store)

    def create(self, ctx: CommandContext, cmd: CreateDocumentTemplate) -> Accepted:
        """Create a template with its first layout (version 1)."""
        layout = cmd.layout
        return self._handler.create(
            ctx,
            Permission.TEMPLATE_MANAGE,
            lambda: DocumentTemplate.create(
                ctx.meta(),
                cmd.kind,
                layout.title,
                layout.branding,
                layout.sections,
                layout.signature_block,
            ),
        )

    def revise(self, ctx: CommandContext, cmd: ReviseDocumentTemplate) -> Accepted:
        """Make a new layout version."""
        layout = cmd.layout
        return self._handler.accept(
            ctx,
            Permission.TEMPLATE_MANAGE,
            DocumentTemplate,
            cmd.template_id,
            cmd.expected_version,
            lambda t: t.revise(
                ctx.meta(),
                layout.title,
                layout.branding,
                layout.sections,
                layout.signature_block,
            ),
        )

    def retire(self, ctx: CommandContext, cmd: RetireDocumentTemplate) -> Accepted:
        """Accept no more revisions (versions stay readable)."""
        return self._handler.accept(
            ctx,
            Permission.TEMPLATE_MANAGE,
            DocumentTemplate,
            cmd.template_id,
            cmd.expected_version,
            lambda t: t.retire(ctx.meta(), ctx.today),
        )
