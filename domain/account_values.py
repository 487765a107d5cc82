"""Values of the account aggregate: status, e-mail, name, roles and the
role rules, the reasons and methods security events record, and times.

Roles and organization ids go into events as sorted tuples
(:func:`role_values`, :func:`organization_values`) so the same set always
gives the same event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from domain.errors import InvalidValueError, RuleViolationError
from domain.principal import CLIENT_ROLES as CLIENT_ROLES
from domain.principal import Role
from domain.tenant import PLATFORM_TENANT
from domain.values import bounded_text, optional_text

EMAIL_MAX = 254
NAME_MAX = 200
ADDRESS_MAX = 255
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLD = r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])"
_EMAIL = re.compile(rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?:{_LABEL}\.)+{_TLD}")
"""A dot-atom local part (no quotes, commas or angle brackets, which could
smuggle recipients into mail headers) at a dotted domain."""
LOCAL_MAX = 64
_CODE = re.compile(r"[a-z][a-z0-9_]{0,49}")


class AccountStatus(StrEnum):
    """Where an account is in its life: invited → active → deactivated."""

    INVITED = "invited"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class PasswordChangeReason(StrEnum):
    """Why a password changed: by its owner, or through a reset link."""

    CHANGED = "changed"
    RESET = "reset"


class LoginMethod(StrEnum):
    """The last factor a login succeeded with."""

    PASSWORD = "password"  # noqa: S105 - a name, not a secret
    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"


class LoginFailureReason(StrEnum):
    """Why a login attempt on an existing account failed."""

    BAD_PASSWORD = "bad_password"  # noqa: S105 - a name, not a secret
    BAD_OTP = "bad_otp"
    BAD_RECOVERY_CODE = "bad_recovery_code"
    NOT_ACTIVE = "not_active"


class LockoutStage(StrEnum):
    """The login step a lockout blocks."""

    PASSWORD = "password"  # noqa: S105 - a name, not a secret
    OTP = "otp"


class SessionRevocationReason(StrEnum):
    """Known reasons for revoking every session of an account.

    Other snake_case codes are accepted too (see
    :func:`valid_revocation_reason`); these are the ones the services use.
    """

    REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105 - a name, not a secret
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a name, not a secret
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a name, not a secret
    DEACTIVATED = "deactivated"
    MFA_RESET = "mfa_reset"


MFA_METHOD_TOTP = "totp"

E = TypeVar("E", bound=StrEnum)


def valid_email(value: str) -> str:
    """``value`` stripped and lower-cased, if it looks like ``local@domain.tld``.

    Raises:
        InvalidValueError: not an e-mail address or over 254 characters.
    """
    email = value.strip().lower()
    if len(email) > EMAIL_MAX:
        raise InvalidValueError(
            "email", f"email must be at most {EMAIL_MAX} characters"
        )
    match = _EMAIL.fullmatch(email)
    if match is None or len(match["local"]) > LOCAL_MAX:
        raise InvalidValueError(
            "email", f"{email!r} is not an e-mail address like name@example.com"
        )
    return email


def valid_name(value: str) -> str:
    """A person's name: white space folded, 1 to 200 characters.

    Raises:
        InvalidValueError: blank or over-long.
    """
    return bounded_text(value, "name", NAME_MAX)


def valid_address(value: str | None) -> str | None:
    """A client address (IP) as given; ``None`` or blank gives ``None``.

    Raises:
        InvalidValueError: over 255 characters.
    """
    return optional_text(value, "address", ADDRESS_MAX)


def valid_roles(values: Iterable[str]) -> frozenset[Role]:
    """The :class:`Role` of each value; at least one.

    Raises:
        InvalidValueError: no roles or an unknown role, naming ``roles``.
    """
    roles: set[Role] = set()
    for value in values:
        try:
            roles.add(Role(value))
        except ValueError:
            raise InvalidValueError("roles", f"{value!r} is not a role") from None
    if not roles:
        raise InvalidValueError("roles", "at least one role is needed")
    return frozenset(roles)


def check_account_roles(
    account_id: UUID,
    tenant_id: str,
    roles: frozenset[Role],
    organization_ids: frozenset[UUID],
) -> None:
    """Raise unless ``roles`` and ``organization_ids`` fit account
    ``account_id`` of ``tenant_id``.

    Raises:
        RuleViolationError: ``account.platform_tenant_platform_admin_only``,
            ``account.platform_role_outside_platform``,
            ``account.client_roles_exclusive``,
            ``account.client_needs_organization`` or
            ``account.organization_scope_for_clients_only``.
    """
    names = ", ".join(sorted(roles))
    subject = f"account {account_id} of tenant {tenant_id!r}"
    if tenant_id == PLATFORM_TENANT:
        if roles != {Role.PLATFORM_ADMIN}:
            raise RuleViolationError(
                "account.platform_tenant_platform_admin_only",
                f"{subject} must hold exactly the role platform_admin, not {names}",
            )
    elif Role.PLATFORM_ADMIN in roles:
        raise RuleViolationError(
            "account.platform_role_outside_platform",
            f"{subject} cannot hold platform_admin: only accounts of tenant "
            f"{PLATFORM_TENANT!r} do",
        )
    clients = roles & CLIENT_ROLES
    if clients and roles != clients:
        raise RuleViolationError(
            "account.client_roles_exclusive",
            f"{subject} cannot combine client roles with other roles ({names})",
        )
    if clients and not organization_ids:
        raise RuleViolationError(
            "account.client_needs_organization",
            f"{subject} holds {names} and needs at least one client organization",
        )
    if not clients and organization_ids:
        raise RuleViolationError(
            "account.organization_scope_for_clients_only",
            f"{subject} holds {names}, which sees the whole tenant: only client "
            "accounts are limited to organizations",
        )


def role_values(roles: Iterable[Role]) -> tuple[str, ...]:
    """Sorted role values, as events carry them."""
    return tuple(sorted(role.value for role in roles))


def organization_values(organization_ids: Iterable[UUID]) -> tuple[UUID, ...]:
    """Organization ids sorted by their text, as events carry them."""
    return tuple(sorted(set(organization_ids), key=str))


def utc_time(value: datetime, field: str) -> datetime:
    """``value`` in UTC; it must carry a time zone.

    Raises:
        InvalidValueError: a naive datetime, naming ``field``.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValueError(field, f"{field} must be a time-zone-aware time")
    return value.astimezone(UTC)


def valid_revocation_reason(value: str) -> str:
    """A reason for revoking sessions: a snake_case code such as
    ``refresh_token_reused`` (see :class:`SessionRevocationReason`).

    Raises:
        InvalidValueError: not a snake_case code of at most 50 characters.
    """
    if not _CODE.fullmatch(value):
        raise InvalidValueError(
            "reason", f"{value!r} is not a snake_case reason such as 'deactivated'"
        )
    return value


def enum_value(kind: type[E], value: str, field: str) -> E:
    """``value`` as a member of the str-enum ``kind``.

    Raises:
        InvalidValueError: not one of ``kind``'s values, naming ``field``.
    """
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidValueError(field, f"{value!r} is not one of: {allowed}") from None
