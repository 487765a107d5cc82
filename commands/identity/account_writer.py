"""How identity commands write an account: its events, the side records
they cause and the account row, in one append.

Every command that changes an account appends an
:class:`~commands.identity.ports.AccountSaved` of the account's new state
with its events (:class:`AccountWriter`, used by every identity service), so
the row the edge reads on each request never lags the events.

Anonymous commands (login, invitation acceptance, password reset) have no
caller: :func:`anonymous_context` gives them one naming the account as actor
once a secret proves who is acting, ``anonymous`` before that, and the
request id as correlation id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate

from commands.context import Accepted, CommandContext
from commands.errors import ClaimTakenError, ConcurrentWriteError
from commands.handling import MAX_ATTEMPTS, AggregateHandler
from commands.identity.mail import Recipient
from commands.identity.ports import AccountSaved, IdentityRecord
from commands.ports import Claim, EventStore
from domain.access import Permission, authorize
from domain.account import Account
from domain.errors import RuleViolationError, VersionConflictError
from domain.principal import Principal
from domain.tenant import Tenant, tenant_aggregate_id

EMAIL_CLAIM = "account.email"
ANONYMOUS = "anonymous"

Decision = Callable[[Account], Sequence[IdentityRecord]]
"""Changes the account (through its commands) and returns the side records
the change causes, besides the account row."""


def account_saved(account: Account) -> AccountSaved:
    """The account row as the aggregate now stands (an erased account's
    e-mail is ``[erased]-<id>``: the row's e-mail is unique in the tenant)."""
    return AccountSaved(
        account_id=account.id,
        tenant_id=account.tenant_id,
        email=f"{account.email}-{account.id}" if account.erased else account.email,
        name=account.name,
        status=account.status.value,
        roles=tuple(sorted(role.value for role in account.roles)),
        organization_ids=tuple(sorted(account.organization_ids, key=str)),
        mfa_enrolled=account.mfa_enrolled,
    )


def anonymous_context(
    tenant_id: str, actor_id: str, correlation_id: str
) -> CommandContext:
    """The context of a command without an authenticated caller: its events
    belong to ``tenant_id`` and name ``actor_id`` (an account id, or
    ``anonymous``)."""
    return CommandContext(Principal(tenant_id, actor_id), correlation_id)


def tenant_name(store: EventStore, tenant_id: str) -> str:
    """The tenant's display name (its slug if it has no tenant aggregate, as
    the ``platform`` tenant)."""
    tenant = store.load(Tenant, tenant_aggregate_id(tenant_id))
    return tenant.name if tenant is not None else tenant_id


def recipient(account: Account, tenant: str) -> Recipient:
    """Who a one-time link for ``account`` is sent to."""
    return Recipient(account.tenant_id, tenant, account.id, account.email, account.name)


class AccountWriter:
    """Loads an account of the context's tenant, decides, and appends its
    events with the side records and the account row, in one transaction."""

    def __init__(self, store: EventStore) -> None:
        self.handler = AggregateHandler(store)

    def change(
        self,
        ctx: CommandContext,
        account_id: UUID,
        decide: Decision,
        *,
        permission: Permission | None = None,
        expected_version: int | None = None,
    ) -> Accepted:
        """Apply ``decide`` to the account; a lost race is decided again on
        fresh state unless ``expected_version`` is given.

        Args:
            permission: Checked first (``None`` for anonymous commands, which
                are authorized by a token or a password instead).

        Raises:
            NotFoundError: no such account in the context's tenant.
            VersionConflictError: the account is not at ``expected_version``.
            SideRecordRefusedError: a conditional record was refused.
        """
        if permission is not None:
            authorize(ctx.principal, permission)
            replay = self.handler.replay(ctx)
            if replay is not None:
                return replay[0]
        for attempt in range(1, MAX_ATTEMPTS + 1):
            account = self.handler.load(ctx, Account, account_id)
            if expected_version is not None and account.version != expected_version:
                raise VersionConflictError(
                    account.id, expected_version, account.version
                )
            caused = decide(account)  # first: the row shows the new state
            records = (account_saved(account), *caused)
            try:
                return self.handler.commit(ctx, account, records=records)[0]
            except ConcurrentWriteError:
                if expected_version is not None:
                    current = self.handler.load(ctx, Account, account_id).version
                    raise VersionConflictError(
                        account.id, expected_version, current
                    ) from None
                if attempt == MAX_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


def commit_invitation(
    handler: AggregateHandler,
    ctx: CommandContext,
    account: Account,
    records: Sequence[IdentityRecord],
    before: Sequence[Aggregate] = (),
    claims: Sequence[Claim] = (),
) -> Accepted:
    """Append a new account's events (after those of ``before``, e.g. its
    tenant), claiming its e-mail in its tenant (and ``claims``, those of
    ``before``); answer for the account.

    Raises:
        RuleViolationError: ``account.email_taken``.
        ClaimTakenError: one of ``claims`` is taken.
    """
    claim = Claim(account.tenant_id, EMAIL_CLAIM, account.email)
    try:
        accepted, _ = handler.commit(
            ctx, *before, account, claims=[*claims, claim], records=records
        )
    except ClaimTakenError as e:
        if (e.scope, e.key) != (claim.scope, claim.key):
            raise
        raise RuleViolationError(
            "account.email_taken",
            f"an account of tenant {account.tenant_id} already has this e-mail",
        ) from e
    if not before:
        return accepted  # (a replayed answer names the account recorded then)
    return Accepted(account.id, account.version, accepted.position)
