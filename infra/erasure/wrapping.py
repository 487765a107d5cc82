"""Per-person data keys wrapped with a key-encryption key, as stored.

A data key is stored wrapped: AES-256-GCM under a wrapping key named by its
id, a random 96-bit nonce, the additional data binding it to its row
(``assurehub-person-key/1``, tenant, person, wrapping key id), stored as
``nonce || ciphertext || tag`` (60 bytes) with the wrapping key's id beside
it. A copy of the key table alone, without the wrapping keys (from the
environment, ``var/secrets`` locally), opens no sealed value.

The first configured wrapping key wraps; every configured one unwraps, so a
key rotates by putting a new one first, rewrapping (``assurehub person-keys
rewrap``, also run by ``assurehub migrate``) and then dropping the old one.
A row with no wrapping key id holds its data key in the clear: rows stored
before wrapping existed, or in development with no wrapping key configured.

Failure modes: a row wrapped with a key that is not configured, or whose
wrapped bytes do not open (altered, or moved to another row), raises
:class:`WrappingKeyError`; nothing is guessed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infra.errors import SettingError
from infra.settings import Settings

log = logging.getLogger(__name__)

_NONCE = 12
_CONTEXT = b"assurehub-person-key/1"
SETTING = "ASSUREHUB_PERSON_KEY_WRAPPING_KEYS"


class WrappingKeyError(SettingError):
    """No wrapping key outside development, a stored key wrapped with a key
    that is not configured, or wrapped bytes that do not open."""


@dataclass(frozen=True)
class StoredKey:
    """A data key as its row holds it: wrapped with ``wrapping_key_id``, or
    in the clear when that is ``None``."""

    data: bytes
    wrapping_key_id: str | None


class KeyWrapping:
    """Wraps data keys with the first of ``keys`` (``(id, 32-byte key)``)
    and unwraps with any of them; with no keys, data keys stay in the clear.
    """

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        self._keys = {key_id: AESGCM(key) for key_id, key in keys}
        self.current: str | None = keys[0][0] if keys else None
        self.key_ids: list[str] = [key_id for key_id, _ in keys]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyWrapping:
        """The configured wrapping keys.

        Raises:
            WrappingKeyError: none is configured outside development.
        """
        keys = settings.person_key_wrapping()
        if not keys:
            if not settings.dev_headers:
                raise WrappingKeyError(f"{SETTING} is required outside development")
            log.warning(
                "no person key wrapping key configured: new data keys are "
                "stored in the clear",
                extra={"setting": SETTING},
            )
        return cls(keys)

    def wrap(self, tenant_id: str, person_id: UUID, key: bytes) -> StoredKey:
        """``key`` as it is stored (wrapped with the current wrapping key)."""
        if self.current is None:
            return StoredKey(key, None)
        nonce = os.urandom(_NONCE)
        aad = _aad(tenant_id, person_id, self.current)
        sealed = self._keys[self.current].encrypt(nonce, key, aad)
        return StoredKey(nonce + sealed, self.current)

    def unwrap(self, tenant_id: str, person_id: UUID, stored: StoredKey) -> bytes:
        """The data key a row holds.

        Raises:
            WrappingKeyError: its wrapping key is not configured, or it does
                not open.
        """
        key_id = stored.wrapping_key_id
        if key_id is None:
            return stored.data
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise WrappingKeyError(
                f"the data key of {person_id} is wrapped with {key_id}, "
                f"which {SETTING} does not hold"
            )
        try:
            return cipher.decrypt(
                stored.data[:_NONCE],
                stored.data[_NONCE:],
                _aad(tenant_id, person_id, key_id),
            )
        except InvalidTag as e:
            raise WrappingKeyError(
                f"the wrapped data key of {person_id} does not open with {key_id}"
            ) from e

    def is_current(self, stored: StoredKey) -> bool:
        """Whether ``stored`` is wrapped as :meth:`wrap` would wrap it now."""
        return stored.wrapping_key_id == self.current


def _aad(tenant_id: str, person_id: UUID, key_id: str) -> bytes:
    return b"\0".join(
        (_CONTEXT, tenant_id.encode(), str(person_id).encode(), key_id.encode())
    )
