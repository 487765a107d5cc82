"""Personal field values sealed with the person's key, as stored and published.

A sealed value is the text ``pii:v1:`` followed by the unpadded URL-safe
base64 of a random 96-bit nonce and the AES-256-GCM ciphertext with its tag;
the additional data is ``<tenant>/<person id>``, so a token copied onto another
person or tenant does not open. Only ``str`` values are sealed; ``None``
stays ``None``.

Opening a token whose key was destroyed gives :data:`ERASED`, as does sealing
for such a person: an erased person's values stay erased wherever they are
read. A value that is not a token (stored before sealing existed) is plain
text and is returned as it is by :meth:`PersonalCipher.open`.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.personal import ERASED
from infra.erasure.keys import PersonKeys

PREFIX = "pii:v1:"
_NONCE = 12
_SEALING_KEYS_KEPT = 10_000


def is_sealed(value: object) -> bool:
    """Whether ``value`` is a sealed token."""
    return type(value) is str and value.startswith(PREFIX)


def _aad(tenant_id: str, person_id: UUID) -> bytes:
    return f"{tenant_id}/{person_id}".encode()


def seal_with(key: bytes, tenant_id: str, person_id: UUID, value: str) -> str:
    """``value`` sealed with ``key`` (a fresh nonce each time)."""
    return _sealed(AESGCM(key), _aad(tenant_id, person_id), value)


def _sealed(cipher: AESGCM, aad: bytes, value: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = cipher.encrypt(nonce, value.encode(), aad)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def open_with(key: bytes, tenant_id: str, person_id: UUID, token: str) -> str:
    """The plain value of ``token``.

    Raises:
        ValueError: not a token of this person sealed with ``key``.
    """
    text = token[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        plain = AESGCM(key).decrypt(
            raw[:_NONCE], raw[_NONCE:], _aad(tenant_id, person_id)
        )
    except (InvalidTag, binascii.Error, ValueError) as e:
        raise ValueError(f"a sealed value of {person_id} does not open") from e
    return plain.decode()


class PersonalCipher:
    """Seals and opens personal values with the keys of ``keys``.

    Args:
        remember: Keep the keys looked up for opening (a rebuild, which
            reads each person's events many times over, in one pass). A
            cipher that remembers sees an erasure made after it looked the key
            up only through the erasure event that follows in the log; the
            live path never remembers.
    """

    def __init__(self, keys: PersonKeys, *, remember: bool = False) -> None:
        self.keys = keys
        self._remembered: dict[tuple[str, UUID], bytes | None] | None = (
            {} if remember else None
        )
        self._sealing: dict[tuple[str, UUID], bytes | None] = {}
        """Keys used for sealing, kept: sealing with a key destroyed since
        makes a token nobody can open, which is what erased means."""

    def _key(self, tenant_id: str, person_id: UUID) -> bytes | None:
        remembered = self._remembered
        if remembered is None:
            return self.keys.keys(tenant_id, (person_id,)).get(person_id)
        try:
            return remembered[(tenant_id, person_id)]
        except KeyError:
            key = self.keys.keys(tenant_id, (person_id,)).get(person_id)
            remembered[(tenant_id, person_id)] = key
            return key

    def seal(
        self,
        tenant_id: str,
        person_id: UUID,
        values: dict[str, Any],
        *,
        new_person: bool = False,
    ) -> None:
        """Seal the text values of ``values`` in place with the person's key
        (made if new), or make them :data:`ERASED` if the person was erased;
        tokens stay as they are.

        Args:
            new_person: The values are the first of a person just created
                (their aggregate's first event): their key is made with the
                events, without looking for one.
        """
        plain = [k for k, v in values.items() if type(v) is str and not is_sealed(v)]
        if not plain:
            return
        if new_person:
            key: bytes | None = self.keys.new_key(tenant_id, person_id)
            self._sealing[(tenant_id, person_id)] = key
        else:
            key = self._sealing_key(tenant_id, person_id)
        if key is None:
            values.update(dict.fromkeys(plain, ERASED))
            return
        cipher, aad = AESGCM(key), _aad(tenant_id, person_id)
        for name in plain:
            values[name] = _sealed(cipher, aad, values[name])

    def _sealing_key(self, tenant_id: str, person_id: UUID) -> bytes | None:
        kept = self._sealing
        try:
            return kept[(tenant_id, person_id)]
        except KeyError:
            key = self.keys.key_for(tenant_id, person_id)
            if len(kept) >= _SEALING_KEYS_KEPT:
                kept.clear()
            kept[(tenant_id, person_id)] = key
            return key

    def open(self, tenant_id: str, person_id: UUID, values: dict[str, Any]) -> None:
        """Open the tokens among ``values`` in place (:data:`ERASED` where
        the key was destroyed); other values stay as they are."""
        sealed = [k for k, v in values.items() if is_sealed(v)]
        if not sealed:
            return
        key = self._key(tenant_id, person_id)
        for name in sealed:
            values[name] = (
                ERASED
                if key is None
                else open_with(key, tenant_id, person_id, values[name])
            )

    def conceal(self, tenant_id: str, person_id: UUID, values: dict[str, Any]) -> None:
        """Make ``values`` safe to hand out, in place: tokens stay tokens,
        plain text is sealed (the person's key made if new), and every value
        of an erased person becomes :data:`ERASED`."""
        if not values:
            return
        found = self.keys.keys(tenant_id, (person_id,))
        if person_id in found and found[person_id] is None:
            for name in values:
                values[name] = ERASED
            return
        if any(not is_sealed(v) for v in values.values()):
            self.seal(tenant_id, person_id, values)

    def erased(self, tenant_id: str, person_id: UUID) -> bool:
        """Whether the person's key was destroyed."""
        found = self.keys.keys(tenant_id, (person_id,))
        return person_id in found and found[person_id] is None
