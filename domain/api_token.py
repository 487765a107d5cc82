"""An API token: the credential of a service account of a downstream system.

The token itself is shown once and stored only as a digest (outside the
events); the aggregate records what it may do. Its roles are tenant roles
that see the whole tenant (no tenant administration, no platform role, no
client roles, since a token has no organization scope). Its scopes narrow
those roles to some of their permissions; no scopes means everything the
roles allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar
from uuid import uuid4

from eventsourcing.domain import Aggregate

from domain.access import PERMISSIONS, Permission
from domain.account_values import CLIENT_ROLES, role_values, utc_time, valid_roles
from domain.errors import InvalidValueError, RuleViolationError
from domain.events import EventMeta
from domain.principal import Role
from domain.values import bounded_text

NAME_MAX = 100
PREFIX_MAX = 12
REFUSED_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.TENANT_ADMIN}) | CLIENT_ROLES
"""Roles a token may not hold."""


def valid_scopes(
    values: Iterable[str], roles: frozenset[Role]
) -> frozenset[Permission]:
    """The permissions named by ``values``, each granted by one of ``roles``.

    Raises:
        InvalidValueError: an unknown permission, naming ``scopes``.
        RuleViolationError: ``api_token.scope_not_granted``.
    """
    scopes: set[Permission] = set()
    for value in values:
        try:
            scope = Permission(value)
        except ValueError:
            raise InvalidValueError(
                "scopes", f"{value!r} is not a permission"
            ) from None
        if PERMISSIONS[scope].isdisjoint(roles):
            raise RuleViolationError(
                "api_token.scope_not_granted",
                f"scope {scope.value} is not granted by the token's roles "
                f"({', '.join(role_values(roles))})",
            )
        scopes.add(scope)
    return frozenset(scopes)


def valid_prefix(value: str) -> str:
    """The first characters of the token, by which people recognise it.

    Raises:
        InvalidValueError: blank, with white space, or over 12 characters.
    """
    if not value or len(value) > PREFIX_MAX or any(c.isspace() for c in value):
        raise InvalidValueError(
            "prefix", f"prefix must be 1 to {PREFIX_MAX} characters without spaces"
        )
    return value


class ApiToken(Aggregate):
    """A revocable, optionally expiring credential of a service account."""

    class Event(Aggregate.Event):
        """Base of ApiToken events."""

        TYPE: ClassVar[str]
        meta: EventMeta

    class Issued(Event, Aggregate.Created):
        """A tenant administrator issued the token (shown to them once)."""

        TYPE = "api_token.issued"
        name: str
        roles: tuple[str, ...]
        scopes: tuple[str, ...]
        expires_at: datetime | None
        prefix: str

    class Revoked(Event):
        """The token stopped working."""

        TYPE = "api_token.revoked"

        def apply(self, aggregate: ApiToken) -> None:
            aggregate.revoked = True

    def __init__(
        self,
        meta: EventMeta,
        name: str,
        roles: tuple[str, ...],
        scopes: tuple[str, ...],
        expires_at: datetime | None,
        prefix: str,
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.name = name
        self.roles = frozenset(Role(r) for r in roles)
        self.scopes = frozenset(Permission(s) for s in scopes)
        self.expires_at = expires_at
        self.prefix = prefix
        self.revoked = False

    @classmethod
    def issue(
        cls,
        meta: EventMeta,
        name: str,
        roles: Iterable[str],
        scopes: Iterable[str],
        expires_at: datetime | None,
        prefix: str,
    ) -> ApiToken:
        """Issue a token of ``meta``'s tenant.

        Args:
            scopes: Permission values the token is limited to; empty for
                everything ``roles`` allow.
            expires_at: When the token stops working; ``None`` for never.
            prefix: The token's first characters (at most 12).

        Raises:
            InvalidValueError: blank or over-long name, no or unknown roles,
                unknown scope, naive ``expires_at``, bad prefix.
            RuleViolationError: ``api_token.role_not_allowed``,
                ``api_token.scope_not_granted``.
        """
        token_roles = valid_roles(roles)
        refused = token_roles & REFUSED_ROLES
        if refused:
            raise RuleViolationError(
                "api_token.role_not_allowed",
                f"an API token cannot hold {', '.join(role_values(refused))}",
            )
        return cls._create(
            cls.Issued,
            id=uuid4(),
            meta=meta,
            name=bounded_text(name, "name", NAME_MAX),
            roles=role_values(token_roles),
            scopes=tuple(sorted(s.value for s in valid_scopes(scopes, token_roles))),
            expires_at=None
            if expires_at is None
            else utc_time(expires_at, "expires_at"),
            prefix=valid_prefix(prefix),
        )

    def is_usable(self, now: datetime) -> bool:
        """Whether the token works at ``now``: not revoked, not expired.

        Raises:
            InvalidValueError: naive ``now``.
        """
        moment = utc_time(now, "now")
        return not self.revoked and (
            self.expires_at is None or moment < self.expires_at
        )

    def revoke(self, meta: EventMeta) -> None:
        """Stop the token from working.

        Raises:
            RuleViolationError: ``api_token.already_revoked``.
        """
        if self.revoked:
            raise RuleViolationError(
                "api_token.already_revoked", f"API token {self.id} is revoked already"
            )
        self.trigger_event(self.Revoked, meta=meta)
