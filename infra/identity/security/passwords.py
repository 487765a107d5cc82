"""Password hashing (argon2id) and the minimum strength policy.

Passwords are normalised to Unicode NFKC before hashing, checking and
measuring, so the same password typed on two keyboards (composed or
decomposed accents, full-width digits) is the same password.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from importlib import resources

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from infra.identity.security import SecurityError

PRODUCTION_TIME_COST = 3
PRODUCTION_MEMORY_KIB = 65_536  # 64 MiB
PRODUCTION_PARALLELISM = 4

MIN_LENGTH = 12
MAX_LENGTH = 128
_MIN_DISTINCT = 5
_MIN_PERSONAL = 3
_TRAILING = re.compile(r"[\W\d_]+$")
_PARTS = re.compile(r"[\W_]+")


class WeakPasswordError(SecurityError):
    """A password was refused by :class:`PasswordPolicy`.

    Args:
        reason: A sentence a person understands saying what to change.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


class PasswordHasher:
    """argon2id hashes, in the PHC string format (parameters and salt inside).

    The defaults are RFC 9106's second recommended option ("low memory"):
    argon2id, 3 passes over 64 MiB with 4 lanes, 16-byte random salt, 32-byte
    tag -- about 50 ms on one server core. Never lower them in production;
    raise them as hardware allows (:meth:`needs_rehash` then tells the login
    flow to re-hash on the next successful login). Tests pass cheap values.

    Args:
        time_cost: Passes over memory.
        memory_kib: Memory per hash, in KiB.
        parallelism: Lanes (threads).
    """

    def __init__(
        self,
        *,
        time_cost: int = PRODUCTION_TIME_COST,
        memory_kib: int = PRODUCTION_MEMORY_KIB,
        parallelism: int = PRODUCTION_PARALLELISM,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )

    @property
    def parameters(self) -> argon2.Parameters:
        """The argon2 type and costs new hashes are made with."""
        hasher = self._hasher
        return argon2.Parameters(
            type=hasher.type,
            version=argon2.low_level.ARGON2_VERSION,
            salt_len=hasher.salt_len,
            hash_len=hasher.hash_len,
            time_cost=hasher.time_cost,
            memory_cost=hasher.memory_cost,
            parallelism=hasher.parallelism,
        )

    def hash(self, password: str) -> str:
        """Hash ``password`` with a fresh random salt."""
        return self._hasher.hash(_normalise(password))

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``.

        The comparison is the library's (constant time). A mismatch, and a
        stored hash that is malformed, both verify as ``False``: this never
        raises, so a caller cannot fail open by forgetting an ``except``.
        """
        try:
            return self._hasher.verify(password_hash, _normalise(password))
        except (VerificationError, InvalidHashError):
            return False

    @functools.cached_property
    def _dummy_hash(self) -> str:
        return self.hash("not a password of anyone")

    def verify_absent(self, password: str) -> bool:
        """Spend the time of a verification for an account that does not exist.

        Call it when the login names an unknown account, so the answer takes
        as long as for a known one and does not reveal which accounts exist.

        Returns:
            Always ``False``.
        """
        self.verify(self._dummy_hash, password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters (or is not argon2id)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


@functools.cache
def bundled_common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (read on first use)."""
    text = (
        resources.files("infra.identity.security")
        .joinpath("common_passwords.txt")
        .read_text(encoding="utf-8")
    )
    return _clean(text.splitlines())


def _clean(words: Iterable[str]) -> frozenset[str]:
    stripped = (word.strip() for word in words)
    return frozenset(
        _normalise(word).casefold()
        for word in stripped
        if word and not word.startswith("#")
    )


class PasswordPolicy:
    """The minimum strength a new password must have (NIST SP 800-63B style).

    No composition rules (they make passwords worse); instead a length of 12
    to 128 characters, a refusal of well-known passwords -- compared ignoring
    case, and again with trailing digits and symbols removed, so that
    ``Dragon2024!`` counts as ``dragon`` -- of passwords made of fewer than
    five different characters, and of passwords that contain the user's
    email local part or name.

    Args:
        common: Lower-case passwords to refuse; the bundled list by default.
    """

    def __init__(self, common: Iterable[str] | None = None) -> None:
        self._common = None if common is None else _clean(common)

    def check(
        self, password: str, *, email: str | None = None, name: str | None = None
    ) -> None:
        """Accept ``password`` or say why not.

        Raises:
            WeakPasswordError: With the reason the password is refused.
        """
        password = _normalise(password)
        if len(password) < MIN_LENGTH:
            raise WeakPasswordError(
                f"Use at least {MIN_LENGTH} characters; a few unrelated words "
                "make a password that is long and easy to remember."
            )
        if len(password) > MAX_LENGTH:
            raise WeakPasswordError(f"Use at most {MAX_LENGTH} characters.")
        folded = password.casefold()
        if len(set(folded)) < _MIN_DISTINCT:
            raise WeakPasswordError("Use more than a few different characters.")
        common = self._common
        if common is None:
            common = bundled_common_passwords()
        stem = _TRAILING.sub("", folded)
        if folded in common or stem in common:
            raise WeakPasswordError(
                "This password is one of the most commonly used; choose another."
            )
        for personal in _personal_parts(email, name):
            if personal in folded:
                raise WeakPasswordError(
                    "Do not use your name or email address in your password."
                )


def _personal_parts(email: str | None, name: str | None) -> list[str]:
    parts: list[str] = []
    if email:
        local = _normalise(email).casefold().partition("@")[0]
        parts.append(local)
        parts.extend(_PARTS.split(local))
    if name:
        folded = _normalise(name).casefold()
        parts.append(folded)
        parts.extend(_PARTS.split(folded))
    return [part for part in parts if len(part) >= _MIN_PERSONAL]
