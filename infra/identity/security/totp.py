"""TOTP second factor: secrets encrypted at rest, one-time codes, recovery codes.

Enrollment: :meth:`TotpSecrets.new_secret` makes the secret on the server,
:func:`provisioning_uri` and :func:`qr_png` / :func:`qr_svg` show it to the
authenticator app, and the enrollment is confirmed only when the first code
passes :meth:`Totp.verify`. Only :meth:`TotpSecrets.encrypt`'s blob is
stored, together with the last accepted time step, which makes every code
single-use.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Mapping, Sequence

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infra.identity.security import SecurityError

_NONCE_BYTES = 12
_KEY_BYTES = 32
_AAD = b"assurehub/totp-secret/"
_CODE = re.compile(r"[0-9]{6}")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECOVERY_CHARS = 16  # 80 bits
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None})


class SecretDecryptionError(SecurityError):
    """A stored TOTP blob does not decrypt: tampered, copied from another
    account, truncated, or encrypted under a key version no longer held."""


class InvalidRecoveryCodeError(SecurityError):
    """The code is not one of the account's remaining recovery codes."""


class TotpSecrets:
    """Makes TOTP secrets and encrypts them at rest with AES-256-GCM.

    A blob is ``version byte || 96-bit random nonce || ciphertext and tag``.
    The associated data binds it to its account id (and its version byte), so
    a blob copied onto another account, or edited, fails to decrypt. To rotate
    the key, give the new key a new version, keep the old one in
    ``previous_keys`` and re-encrypt blobs for which
    :meth:`needs_reencryption` is true (for instance at the next login).

    Args:
        encryption_key: 32 random bytes, from the environment.
        key_version: Version byte written into new blobs (1-255).
        previous_keys: Older keys by version, only for decrypting.

    Raises:
        ValueError: For a key that is not 32 bytes or a bad version.
    """

    def __init__(
        self,
        encryption_key: bytes,
        *,
        key_version: int = 1,
        previous_keys: Mapping[int, bytes] | None = None,
    ) -> None:
        keys = {**(previous_keys or {}), key_version: encryption_key}
        for version, key in keys.items():
            if not 1 <= version <= 255:
                raise ValueError("key versions are 1 to 255")
            if len(key) != _KEY_BYTES:
                raise ValueError("TOTP encryption keys are 32 bytes (AES-256)")
        self._version = key_version
        self._ciphers = {version: AESGCM(key) for version, key in keys.items()}

    @staticmethod
    def new_secret() -> str:
        """A new random secret: 32 base32 characters (160 bits, RFC 4226)."""
        return pyotp.random_base32(length=32)

    def encrypt(self, secret: str, *, account_id: str) -> bytes:
        """Encrypt ``secret`` for storage on the account ``account_id``."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        header = bytes([self._version])
        sealed = self._ciphers[self._version].encrypt(
            nonce, secret.encode(), _aad(header, account_id)
        )
        return header + nonce + sealed

    def decrypt(self, blob: bytes, *, account_id: str) -> str:
        """The secret stored in ``blob`` on the account ``account_id``.

        Raises:
            SecretDecryptionError: The blob is not an intact blob of this
                account under a key this instance holds.
        """
        header, nonce, sealed = blob[:1], blob[1:13], blob[13:]
        cipher = self._ciphers.get(header[0]) if header else None
        if cipher is None or len(nonce) != _NONCE_BYTES:
            raise SecretDecryptionError("unknown key version or truncated blob")
        try:
            plain = cipher.decrypt(nonce, sealed, _aad(header, account_id))
        except InvalidTag as exc:
            raise SecretDecryptionError("TOTP secret failed authentication") from exc
        return plain.decode()

    def needs_reencryption(self, blob: bytes) -> bool:
        """Whether ``blob`` was encrypted under an older key version."""
        return not blob or blob[0] != self._version


def _aad(header: bytes, account_id: str) -> bytes:
    return _AAD + header + b"/" + account_id.encode()


def provisioning_uri(secret: str, account_label: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app enrolls from."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_label, issuer_name=issuer)


def qr_png(uri: str, *, scale: int = 5) -> bytes:
    """The provisioning URI as a QR code PNG image."""
    buffer = io.BytesIO()
    segno.make_qr(uri, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(uri: str, *, scale: int = 5) -> str:
    """The provisioning URI as a QR code SVG document (UTF-8 text)."""
    buffer = io.BytesIO()
    segno.make_qr(uri, error="m").save(
        buffer, kind="svg", scale=scale, border=4, title="Scan to enroll"
    )
    return buffer.getvalue().decode()


class Totp:
    """RFC 6238 codes: 6 digits, 30-second steps, SHA-1 (what apps support).

    A code is accepted for its own step and ``drift_steps`` either side (the
    phone's clock may be a little off), and at most once: the caller stores
    the step returned and passes it back as ``last_used_step``, and any step
    at or before it is refused, which also refuses older codes still inside
    the window.

    Args:
        drift_steps: Steps of clock drift tolerated either side.
    """

    def __init__(self, *, drift_steps: int = 1) -> None:
        if drift_steps < 0:
            raise ValueError("drift_steps cannot be negative")
        self._drift = drift_steps

    def verify(
        self, secret: str, code: str, *, now: float, last_used_step: int | None
    ) -> int | None:
        """The time step ``code`` belongs to, or ``None`` if refused.

        Args:
            secret: The decrypted base32 secret.
            code: What the user typed; spaces are ignored, then exactly six
                ASCII digits are required.
            now: Seconds since the epoch.
            last_used_step: The step of the last accepted code, if any.
        """
        code = "".join(code.split())
        if not _CODE.fullmatch(code):
            return None
        totp = pyotp.TOTP(secret)
        current = totp.timecode(now)
        matched = [
            step
            for step in range(current - self._drift, current + self._drift + 1)
            if step >= 0 and hmac.compare_digest(totp.generate_otp(step), code)
        ]
        fresh = [s for s in matched if last_used_step is None or s > last_used_step]
        return max(fresh, default=None)


class RecoveryCodes:
    """Ten single-use codes for when the phone is lost, stored as HMAC-SHA256.

    Each code is 16 Crockford base32 characters (80 random bits), shown once
    as ``XXXX-XXXX-XXXX-XXXX``. Why a fast keyed hash and not argon2: a slow
    hash protects guessable secrets, and these are not guessable (2^80 tries
    per code); the HMAC key, kept outside the database, means a leaked table
    alone cannot even be tested offline. And a salted argon2 hash would cost a
    full argon2 verification per stored code on every attempt (ten per try),
    an easy way to load the server.

    Args:
        key: At least 32 random bytes, from the environment.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < _KEY_BYTES:
            raise ValueError("the recovery code key must be at least 32 bytes")
        self._key = key

    def generate(self, n: int = 10) -> tuple[list[str], list[str]]:
        """New codes: ``(codes to show once, hashes to store)``.

        Regenerating replaces all the stored hashes with the new ones.
        """
        codes = []
        for _ in range(n):
            raw = "".join(secrets.choice(_CROCKFORD) for _ in range(_RECOVERY_CHARS))
            codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
        return codes, [self._hash(code) for code in codes]

    def use(self, code: str, hashes: Sequence[str]) -> list[str]:
        """Spend ``code``: the hashes to store afterwards (it is gone from them).

        The typed code is read ignoring case, spaces and dashes (and O as 0,
        I or L as 1). Every stored hash is compared, in constant time.

        Raises:
            InvalidRecoveryCodeError: No remaining code matches.
        """
        presented = self._hash(code)
        remaining = []
        found = False
        for stored in hashes:
            if hmac.compare_digest(stored.encode(), presented.encode()):
                found = True
            else:
                remaining.append(stored)
        if not found:
            raise InvalidRecoveryCodeError("not a remaining recovery code")
        return remaining

    def _hash(self, code: str) -> str:
        normal = "".join(code.split()).upper().translate(_READ_AS)
        return hmac.new(self._key, normal.encode(), hashlib.sha256).hexdigest()
