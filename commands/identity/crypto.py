"""Ports of the secrets the identity services handle; adapters in ``infra``.

The services decide *when* a password is checked, a token minted or a code
accepted; these ports say *how*, so that the services stay free of argon2,
JWT, AES and Redis, and unit tests can pass cheap twins. The adapters over
:mod:`infra.identity.security` live in :mod:`infra.identity.crypto`.

None of them raises for a wrong secret: a password that does not match, a
TOTP code that is refused, answer ``False`` / ``None``, so that a caller
counts the failure and cannot fail open by forgetting an ``except``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID


class Passwords(Protocol):
    """Hashes and checks passwords (argon2id), and the strength policy."""

    def hash(self, password: str) -> str:
        """A new hash of ``password`` (with a fresh salt)."""
        ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; ``False`` for a malformed hash too."""
        ...

    def verify_absent(self, password: str) -> bool:
        """Spend the time of one verification for an account that does not
        exist (or has no password yet), so that timing does not reveal which
        accounts exist. Always ``False``."""
        ...

    def weakness(self, password: str, email: str, name: str) -> str | None:
        """Why the policy refuses ``password`` for this person (a sentence
        they understand), or ``None`` when it is strong enough."""
        ...


class BearerSecrets(Protocol):
    """Opaque bearer secrets shown once and stored only as digests (refresh
    tokens, one-time tokens, API tokens)."""

    def mint(self, prefix: str) -> tuple[str, str]:
        """A new secret behind ``prefix`` (e.g. ``ah_rt_``):
        ``(token to show once, digest to store)``."""
        ...

    def digest(self, token: str) -> str:
        """The digest under which ``token`` is stored and looked up."""
        ...


class AccessTokenIssuer(Protocol):
    """Signs the short-lived access tokens of login sessions."""

    @property
    def ttl_seconds(self) -> int:
        """Lifetime of an access token."""
        ...

    def issue(
        self, subject: str, tenant_id: str, session_id: str, roles: Iterable[str]
    ) -> str:
        """A signed access token for the account ``subject`` in one session."""
        ...


class TotpEngine(Protocol):
    """Time-based one-time passwords: secrets (encrypted at rest, bound to
    their account), codes and the enrollment QR code."""

    def new_secret(self) -> str:
        """A new random base32 secret."""
        ...

    def encrypt(self, secret: str, account_id: UUID) -> bytes:
        """The blob that stores ``secret`` on ``account_id``."""
        ...

    def decrypt(self, blob: bytes, account_id: UUID) -> str:
        """The secret in ``blob``; raises if the blob was tampered with, moved
        to another account or sealed under an unknown key (a server fault)."""
        ...

    def verify(
        self, secret: str, code: str, now: float, last_used_step: int | None
    ) -> int | None:
        """The time step ``code`` belongs to (its own step or one either
        side), or ``None`` if refused, including any step at or before
        ``last_used_step`` (a replay)."""
        ...

    def provisioning_uri(self, secret: str, label: str, issuer: str) -> str:
        """The ``otpauth://`` URI an authenticator app enrolls from."""
        ...

    def qr_svg(self, uri: str) -> str:
        """``uri`` as a QR code SVG document."""
        ...

    def qr_png(self, uri: str) -> bytes:
        """``uri`` as a QR code PNG image."""
        ...


class RecoveryCodeBook(Protocol):
    """Single-use recovery codes, stored as keyed hashes."""

    def generate(self, n: int) -> tuple[list[str], list[str]]:
        """``n`` new codes: ``(codes to show once, hashes to store)``."""
        ...

    def hash(self, code: str) -> str:
        """The stored hash of a typed code (case, spaces and dashes ignored)."""
        ...


class LoginGuard(Protocol):
    """Counts failed attempts per key (an account, a client address) and locks
    a key out for a growing time after repeated failures. Adapters keep
    counting when their store (Redis) is unreachable: limits never switch
    off."""

    def blocked(self, keys: Sequence[str]) -> float | None:
        """Seconds to wait if any of ``keys`` is locked out now, else ``None``."""
        ...

    def failed(self, keys: Sequence[str]) -> float | None:
        """Count one failure on each key; the lockout in seconds if this
        failure started one, else ``None``."""
        ...

    def succeeded(self, keys: Sequence[str]) -> None:
        """Clear the failure counts of ``keys`` (the account's, after a
        successful attempt)."""
        ...

    def begin(self, key: str) -> bool:
        """Mark an attempt on ``key`` as in progress; ``False`` if one already
        is (so parallel guesses cannot all pass the lock check before any of
        their failures is counted)."""
        ...

    def end(self, key: str) -> None:
        """The attempt on ``key`` is over (counted or succeeded)."""
        ...


class Clock(Protocol):
    """The present, as an aware UTC datetime."""

    def now(self) -> datetime: ...
