"""The versions of the aggregates a document is built from, read when it is
requested (:class:`~domain.document_values.SourceVersions`).

Each is the aggregate's current version in the caller's tenant at the
request: the processor loads every source at exactly that version, so the
file it renders does not depend on when it renders it.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from commands.context import CommandContext
from commands.handling import AggregateHandler
from commands.ports import EventStore
from domain.account import Account
from domain.audit import Audit
from domain.certificate import Certificate
from domain.document import people_named
from domain.document_values import SourceVersions
from domain.organization import Organization
from domain.standard_template import StandardTemplate
from domain.tenant import Tenant, tenant_aggregate_id


class DocumentSources:
    """Reads source versions through the event store."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._handler = AggregateHandler(store)

    def of_audit(self, ctx: CommandContext, audit: Audit) -> SourceVersions:
        """The sources of a report of ``audit``: its organization, the
        standard template it works from, the tenant and the people it names.

        Raises:
            NotFoundError: the organization or standard template is not in
                the caller's tenant.
        """
        organization = self._handler.load(ctx, Organization, audit.organization_id)
        standard = self._handler.load(ctx, StandardTemplate, audit.standard_template_id)
        return SourceVersions(
            organization=organization.version,
            tenant=self._tenant_version(ctx),
            standard_template=standard.version,
            people=self._accounts(ctx, people_named(audit)),
        )

    def of_certificate(
        self, ctx: CommandContext, certificate: Certificate
    ) -> SourceVersions:
        """The sources of ``certificate``'s PDF: its holder and the tenant.

        Raises:
            NotFoundError: the organization is not in the caller's tenant.
        """
        organization = self._handler.load(
            ctx, Organization, certificate.organization_id
        )
        return SourceVersions(
            organization=organization.version, tenant=self._tenant_version(ctx)
        )

    def _tenant_version(self, ctx: CommandContext) -> int | None:
        tenant = self._store.load(Tenant, tenant_aggregate_id(ctx.principal.tenant_id))
        return tenant.version if tenant is not None else None

    def _accounts(
        self, ctx: CommandContext, actor_ids: Iterable[str]
    ) -> tuple[tuple[str, int], ...]:
        """``(actor id, account version)`` of each actor who is an account of
        the caller's tenant (a person's actor id is their account id)."""
        found = []
        for actor in actor_ids:
            try:
                account_id = UUID(actor)
            except ValueError:
                continue
            account = self._store.load(Account, account_id)
            if account is not None and account.tenant_id == ctx.principal.tenant_id:
                found.append((actor, account.version))
        return tuple(found)
