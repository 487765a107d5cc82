"""API tokens: credentials of downstream systems' service accounts.

A token is shown once, when issued, and stored only as its digest. An
``Idempotency-Key`` is not honoured on issue: a replayed answer could not
show the secret again, so a client that lost the answer revokes the token
and issues another.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from commands.context import Accepted, CommandContext
from commands.handling import AggregateHandler
from commands.identity.crypto import BearerSecrets, Clock
from commands.identity.ports import (
    ApiTokenRecord,
    ApiTokenRevoked,
    ApiTokenStored,
    IdentityDirectory,
)
from commands.ports import EventStore
from domain.access import Permission, authorize
from domain.api_token import PREFIX_MAX, ApiToken
from domain.errors import InvalidValueError, NotFoundError, VersionConflictError

TOKEN_PREFIX = "ah_live_"  # noqa: S105 - a prefix, not a secret
MAX_DAYS = 3650


@dataclass(frozen=True)
class IssueApiToken:
    name: str
    roles: Collection[str]
    scopes: Collection[str] = ()
    """Permission values; empty for everything the roles allow."""
    expires_in_days: int | None = None
    """``None`` for a token that does not expire."""


@dataclass(frozen=True)
class IssuedToken(Accepted):
    """The token was issued; ``token`` is shown this once."""

    token: str


class ApiTokenService:
    """Application service whose methods are the API token commands.

    Args:
        store: The event store.
        directory: The identity side tables.
        secrets: Mints the tokens.
        clock: The present.
    """

    def __init__(
        self,
        store: EventStore,
        directory: IdentityDirectory,
        secrets: BearerSecrets,
        clock: Clock,
    ) -> None:
        self._handler = AggregateHandler(store)
        self._directory = directory
        self._secrets = secrets
        self._clock = clock

    def issue(self, ctx: CommandContext, cmd: IssueApiToken) -> IssuedToken:
        """Issue a token of the caller's tenant.

        Raises:
            InvalidValueError: bad name, roles, scopes or ``expires_in_days``.
            RuleViolationError: ``api_token.role_not_allowed``,
                ``api_token.scope_not_granted``.
        """
        authorize(ctx.principal, Permission.API_TOKEN_MANAGE)
        days = cmd.expires_in_days
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise InvalidValueError(
                "expires_in_days", f"expires_in_days must be 1 to {MAX_DAYS}"
            )
        expires_at = None if days is None else self._clock.now() + timedelta(days)
        token, digest = self._secrets.mint(TOKEN_PREFIX)
        issued = ApiToken.issue(
            ctx.meta(),
            cmd.name,
            cmd.roles,
            cmd.scopes,
            expires_at,
            token[:PREFIX_MAX],
        )
        stored = ApiTokenStored(
            issued.id,
            issued.tenant_id,
            digest,
            issued.name,
            tuple(sorted(r.value for r in issued.roles)),
            tuple(sorted(s.value for s in issued.scopes)),
            issued.expires_at,
            issued.prefix,
        )
        once = replace(ctx, idempotency=None)
        accepted, _ = self._handler.commit(once, issued, records=[stored])
        return IssuedToken(accepted.id, accepted.version, accepted.position, token)

    def revoke(
        self, ctx: CommandContext, token_id: UUID, expected_version: int | None = None
    ) -> Accepted:
        """Stop a token of the caller's tenant from working, at once.

        Raises:
            RuleViolationError: ``api_token.already_revoked``.
        """
        authorize(ctx.principal, Permission.API_TOKEN_MANAGE)
        replay = self._handler.replay(ctx)
        if replay is not None:
            return replay[0]
        token = self._handler.load(ctx, ApiToken, token_id)
        if expected_version is not None and token.version != expected_version:
            raise VersionConflictError(token.id, expected_version, token.version)
        token.revoke(ctx.meta())
        return self._handler.commit(ctx, token, records=[ApiTokenRevoked(token.id)])[0]

    def tokens(self, ctx: CommandContext) -> Sequence[ApiTokenRecord]:
        """The caller's tenant's tokens, newest first (never their secrets)."""
        authorize(ctx.principal, Permission.API_TOKEN_MANAGE)
        return self._directory.api_tokens(ctx.principal.tenant_id)

    def token(self, ctx: CommandContext, token_id: UUID) -> ApiTokenRecord:
        """One of the caller's tenant's tokens.

        Raises:
            NotFoundError: no such token in the tenant.
        """
        for record in self.tokens(ctx):
            if record.token_id == token_id:
                return record
        raise NotFoundError("api token", token_id)
