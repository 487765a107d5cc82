"""Adapters making :mod:`infra.identity.security`'s building blocks satisfy the ports
of :mod:`commands.identity.crypto`.

Each is a thin wrapper: the keys and costs come in from the composition root,
which reads them from the settings.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from infra.identity.security.passwords import (
    PasswordHasher,
    PasswordPolicy,
    WeakPasswordError,
)
from infra.identity.security.tokens import AccessTokens, digest, opaque_token
from infra.identity.security.totp import (
    RecoveryCodes,
    Totp,
    TotpSecrets,
    provisioning_uri,
    qr_png,
    qr_svg,
)


class SecurityPasswords:
    """:class:`~commands.identity.crypto.Passwords` over argon2id and the
    strength policy.

    At most ``concurrent`` hashes run at once in this process (each takes the
    hasher's memory, 64 MiB by default): a flood of logins queues instead of
    exhausting memory.
    """

    def __init__(
        self, hasher: PasswordHasher, policy: PasswordPolicy, concurrent: int = 4
    ) -> None:
        self._hasher = hasher
        self._policy = policy
        self._slots = threading.BoundedSemaphore(concurrent)

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._slots:
            return self._hasher.verify(password_hash, password)

    def verify_absent(self, password: str) -> bool:
        with self._slots:
            return self._hasher.verify_absent(password)

    def weakness(self, password: str, email: str, name: str) -> str | None:
        try:
            self._policy.check(password, email=email, name=name)
        except WeakPasswordError as e:
            return e.reason
        return None


class OpaqueSecrets:
    """:class:`~commands.identity.crypto.BearerSecrets`: 256-bit tokens
    behind a prefix, stored as SHA-256."""

    def mint(self, prefix: str) -> tuple[str, str]:
        return opaque_token(prefix)

    def digest(self, token: str) -> str:
        return digest(token)


class JwtIssuer:
    """:class:`~commands.identity.crypto.AccessTokenIssuer` over
    :class:`~infra.identity.security.tokens.AccessTokens`."""

    def __init__(self, tokens: AccessTokens) -> None:
        self._tokens = tokens

    @property
    def ttl_seconds(self) -> int:
        return self._tokens.ttl_seconds

    def issue(
        self, subject: str, tenant_id: str, session_id: str, roles: Iterable[str]
    ) -> str:
        return self._tokens.issue(
            subject=subject, tenant_id=tenant_id, session_id=session_id, roles=roles
        )


class SecurityTotp:
    """:class:`~commands.identity.crypto.TotpEngine` over AES-GCM sealed
    secrets and RFC 6238 codes."""

    def __init__(self, secrets: TotpSecrets, totp: Totp) -> None:
        self._secrets = secrets
        self._totp = totp

    def new_secret(self) -> str:
        return self._secrets.new_secret()

    def encrypt(self, secret: str, account_id: UUID) -> bytes:
        return self._secrets.encrypt(secret, account_id=str(account_id))

    def decrypt(self, blob: bytes, account_id: UUID) -> str:
        return self._secrets.decrypt(blob, account_id=str(account_id))

    def verify(
        self, secret: str, code: str, now: float, last_used_step: int | None
    ) -> int | None:
        return self._totp.verify(secret, code, now=now, last_used_step=last_used_step)

    def provisioning_uri(self, secret: str, label: str, issuer: str) -> str:
        return provisioning_uri(secret, label, issuer)

    def qr_svg(self, uri: str) -> str:
        return qr_svg(uri)

    def qr_png(self, uri: str) -> bytes:
        return qr_png(uri)


class HmacRecoveryCodes:
    """:class:`~commands.identity.crypto.RecoveryCodeBook` over
    :class:`~infra.identity.security.totp.RecoveryCodes`."""

    def __init__(self, codes: RecoveryCodes) -> None:
        self._codes = codes

    def generate(self, n: int) -> tuple[list[str], list[str]]:
        return self._codes.generate(n)

    def hash(self, code: str) -> str:
        return self._codes._hash(code)


class SystemClock:
    """:class:`~commands.identity.crypto.Clock`: the system's UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)
