"""Creating tenants: a platform administrator's command.

A new tenant starts with one invited tenant administrator. The tenant's
creation and the invitation are recorded in the new tenant's own log
(``meta.tenant_id`` is its slug; the actor is the platform administrator) in
one append, with the invitation e-mail, so a tenant never exists without a
way in. The same append claims the tenant's certificate code across the
platform (a :class:`~commands.ports.Claim` of the ``platform`` tenant in
scope :data:`CERTIFICATE_CODE_CLAIM`, held by the tenant aggregate): of two
tenants whose slugs give the same code, the second takes the next candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from commands.context import Accepted, CommandContext
from commands.errors import ClaimTakenError, ConcurrentWriteError
from commands.handling import AggregateHandler
from commands.identity.account_writer import (
    account_saved,
    commit_invitation,
    recipient,
)
from commands.identity.accounts import INVITATION_TTL
from commands.identity.crypto import BearerSecrets, Clock
from commands.identity.mail import OneTimeLinks
from commands.ports import Claim, EventStore
from domain.access import Permission, authorize
from domain.account import Account
from domain.errors import RuleViolationError
from domain.events import EventMeta
from domain.principal import Principal, Role
from domain.tenant import (
    PLATFORM_TENANT,
    Tenant,
    certificate_code_candidates,
    tenant_aggregate_id,
)

CERTIFICATE_CODE_CLAIM = "tenant.certificate_code"
"""Scope of the claims (in the ``platform`` tenant) that make certificate
codes unique; the claim's aggregate is the tenant's."""


def certificate_code_claim(code: str) -> Claim:
    """The platform-wide claim of a certificate code."""
    return Claim(PLATFORM_TENANT, CERTIFICATE_CODE_CLAIM, code)


@dataclass(frozen=True)
class CreateTenant:
    tenant_id: str
    """The slug, e.g. ``acme-cert``."""
    name: str
    admin_email: str
    admin_name: str


@dataclass(frozen=True)
class Invitation:
    """A new tenant and its invited first administrator."""

    tenant_id: str
    tenant: Accepted
    account: Accepted
    certificate_code: str
    """The prefix of the tenant's certificate numbers."""


class TenantService:
    """Application service whose methods are the tenant commands.

    Args:
        store: The event store.
        secrets: Mints the invitation token.
        clock: The present.
        public_base_url: Base of the link in the invitation e-mail.
        invitation_ttl: How long the invitation can be accepted.
    """

    def __init__(
        self,
        store: EventStore,
        secrets: BearerSecrets,
        clock: Clock,
        public_base_url: str,
        invitation_ttl: timedelta = INVITATION_TTL,
    ) -> None:
        self._store = store
        self._handler = AggregateHandler(store)
        self._clock = clock
        self._links = OneTimeLinks(secrets, public_base_url)
        self._invitation_ttl = invitation_ttl

    def create_tenant(self, ctx: CommandContext, cmd: CreateTenant) -> Invitation:
        """Create a tenant with the first free certificate code of its slug
        and invite its first tenant administrator.

        Raises:
            RuleViolationError: ``tenant.already_exists``,
                ``tenant.no_certificate_code`` (every candidate is taken).
            InvalidValueError: bad slug (or ``platform``), name, e-mail.
        """
        authorize(ctx.principal, Permission.TENANT_CREATE)
        slug = cmd.tenant_id.strip()
        if self._store.load(Tenant, tenant_aggregate_id(slug)) is not None:
            raise _exists(slug)
        for code in certificate_code_candidates(slug):
            try:
                return self._create(ctx, cmd, slug, code)
            except ClaimTakenError:
                continue  # another tenant holds the code: try the next
        raise RuleViolationError(
            "tenant.no_certificate_code",
            f"every certificate code tenant {slug} could take is taken",
        )

    def _create(
        self, ctx: CommandContext, cmd: CreateTenant, slug: str, code: str
    ) -> Invitation:
        """Append the tenant with ``code`` and its invited administrator.

        Raises:
            ClaimTakenError: another tenant holds ``code``.
        """
        meta = EventMeta(
            slug, ctx.principal.actor_id, ctx.correlation_id, ctx.correlation_id
        )
        tenant = Tenant.create(meta, cmd.name, code)
        expires_at = self._clock.now() + self._invitation_ttl
        account = Account.invite(
            meta,
            cmd.admin_email,
            cmd.admin_name,
            {Role.TENANT_ADMIN},
            (),
            expires_at,
        )
        to = recipient(account, tenant.name)
        records = (account_saved(account), *self._links.invitation(to, expires_at))
        try:
            invited = commit_invitation(
                self._handler,
                ctx,
                account,
                records,
                before=[tenant],
                claims=[certificate_code_claim(code)],
            )
        except ConcurrentWriteError as e:
            raise _exists(slug) from e
        created = Accepted(tenant.id, tenant.version, invited.position)
        return Invitation(slug, created, invited, code)

    def invite_platform_admin(
        self, email: str, name: str, correlation_id: str
    ) -> Accepted:
        """Invite a platform administrator (the operator's bootstrap, run from
        the command line: there is no caller yet). The invitation e-mail goes
        out like any other; its link sets the password.

        Raises:
            RuleViolationError: ``account.email_taken``.
            InvalidValueError: bad e-mail or name.
        """
        system = Principal(
            tenant_id=PLATFORM_TENANT,
            actor_id="operator",
            roles=frozenset({Role.PLATFORM_ADMIN}),
        )
        ctx = CommandContext(principal=system, correlation_id=correlation_id)
        expires_at = self._clock.now() + self._invitation_ttl
        account = Account.invite(
            ctx.meta(), email, name, {Role.PLATFORM_ADMIN}, (), expires_at
        )
        to = recipient(account, "AssureHub platform")
        records = (account_saved(account), *self._links.invitation(to, expires_at))
        return commit_invitation(self._handler, ctx, account, records)


def _exists(slug: str) -> RuleViolationError:
    return RuleViolationError("tenant.already_exists", f"tenant {slug} exists already")
