"""Which notifications people receive, in which language; what was sent.

A person chooses for themselves (``/me/notification-preferences``); the
tenant's administrators set the defaults that apply where a person has not
chosen. Security kinds (:data:`domain.notifications.SECURITY_KINDS`) are
always sent and cannot be switched off. Preferences are settings, not
business facts: they are kept in a table (:class:`PreferenceStore`), not as
events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from commands.context import CommandContext
from domain.access import Permission, authorize
from domain.errors import InvalidValueError, NotFoundError
from domain.notifications import OPTIONAL_KINDS, NotificationKind

LANGUAGES = ("en", "de")
"""Languages the e-mails are written in (others read English)."""


@dataclass(frozen=True)
class Preferences:
    """One person's (or the tenant's default) choice per optional kind, and
    the language; ``language`` is ``None`` for the tenant's defaults."""

    kinds: dict[NotificationKind, bool]
    language: str | None


@dataclass(frozen=True)
class SentNotification:
    """One outbox message as a tenant administrator sees it (no body)."""

    message_id: UUID
    kind: str | None
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class PreferenceStore(Protocol):
    """Where preferences and languages are kept."""

    def choices(self, tenant_id: str, account_id: UUID | None) -> dict[str, bool]:
        """The kinds explicitly switched on or off (``None``: the defaults)."""

    def language(self, tenant_id: str, account_id: UUID) -> str | None:
        """The person's language, if chosen."""

    def is_account(self, tenant_id: str, account_id: UUID) -> bool:
        """Whether ``account_id`` is a person's account of ``tenant_id``."""

    def save(
        self,
        tenant_id: str,
        account_id: UUID | None,
        kinds: Mapping[str, bool],
        language: str | None,
    ) -> None:
        """Record the choices (and, for a person, the language)."""

    def sent(
        self,
        tenant_id: str,
        status: str | None,
        kind: str | None,
        limit: int,
        before: tuple[datetime, UUID] | None = None,
    ) -> list[SentNotification]:
        """The tenant's outbox messages, newest first, optionally filtered,
        older than ``before`` (created at, message id) when given."""


class NotificationPreferencesService:
    """Reads and changes notification preferences; lists what was sent."""

    def __init__(self, store: PreferenceStore) -> None:
        self._store = store

    def mine(self, ctx: CommandContext) -> Preferences:
        """The caller's preferences (the tenant's defaults where unchosen).

        Raises:
            NotFoundError: the caller is not a person (an API token).
        """
        authorize(ctx.principal, Permission.SELF_SERVICE)
        account = _own_account(ctx, self._store)
        tenant = ctx.principal.tenant_id
        return Preferences(
            self._merged(tenant, account), self._store.language(tenant, account)
        )

    def change_mine(
        self, ctx: CommandContext, kinds: Mapping[str, bool], language: str | None
    ) -> Preferences:
        """Switch kinds on or off for the caller, and set their language.

        Raises:
            InvalidValueError: an unknown kind, a security kind (``kinds``),
                or a language without templates (``language``).
        """
        authorize(ctx.principal, Permission.SELF_SERVICE)
        account = _own_account(ctx, self._store)
        choices = _checked(kinds)
        if language is not None and language not in LANGUAGES:
            raise InvalidValueError(
                "language", f"language must be one of {', '.join(LANGUAGES)}"
            )
        self._store.save(ctx.principal.tenant_id, account, choices, language)
        return self.mine(ctx)

    def defaults(self, ctx: CommandContext) -> Preferences:
        """The tenant's defaults (tenant administrators)."""
        authorize(ctx.principal, Permission.TENANT_SETTINGS_MANAGE)
        return Preferences(self._merged(ctx.principal.tenant_id, None), None)

    def change_defaults(
        self, ctx: CommandContext, kinds: Mapping[str, bool]
    ) -> Preferences:
        """Set the tenant's defaults (tenant administrators).

        Raises:
            InvalidValueError: an unknown or security kind (``kinds``).
        """
        authorize(ctx.principal, Permission.TENANT_SETTINGS_MANAGE)
        self._store.save(ctx.principal.tenant_id, None, _checked(kinds), None)
        return self.defaults(ctx)

    def sent(
        self,
        ctx: CommandContext,
        status: str | None,
        kind: NotificationKind | None,
        limit: int,
        before: tuple[datetime, UUID] | None = None,
    ) -> list[SentNotification]:
        """The tenant's notifications, newest first (tenant administrators)."""
        authorize(ctx.principal, Permission.NOTIFICATION_READ)
        return self._store.sent(
            ctx.principal.tenant_id,
            status,
            kind.value if kind else None,
            limit,
            before,
        )

    def _merged(
        self, tenant: str, account: UUID | None
    ) -> dict[NotificationKind, bool]:
        defaults = self._store.choices(tenant, None)
        own = self._store.choices(tenant, account) if account else {}
        return {
            k: own.get(k.value, defaults.get(k.value, True)) for k in OPTIONAL_KINDS
        }


def _checked(kinds: Mapping[str, bool]) -> dict[str, bool]:
    for name in kinds:
        try:
            kind = NotificationKind(name)
        except ValueError:
            raise InvalidValueError(
                "kinds", f"unknown notification kind {name!r}"
            ) from None
        if not kind.optional:
            raise InvalidValueError(
                "kinds", f"{name} is a security message and cannot be switched off"
            )
    return dict(kinds)


def _own_account(ctx: CommandContext, store: PreferenceStore) -> UUID:
    try:
        account = UUID(ctx.principal.actor_id)
    except ValueError:
        raise NotFoundError("account", ctx.principal.actor_id) from None
    if not store.is_account(ctx.principal.tenant_id, account):
        raise NotFoundError("account", account)
    return account
