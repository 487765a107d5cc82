"""Identity's keys, read from the settings.

Keys come from the environment (``var/secrets`` locally). Outside development
a missing key stops the process at start-up; in development a missing key is
replaced by a random one for this process (sessions then end when it stops),
with a warning.
"""

from __future__ import annotations

import logging
import secrets

from infra.errors import SettingError
from infra.identity.security.totp import TotpSecrets
from infra.settings import Settings

log = logging.getLogger(__name__)


class MissingKeyError(SettingError):
    """A key identity needs is not configured (outside development)."""


def identity_key(settings: Settings, name: str) -> bytes:
    """The key the setting ``name`` holds (hex), or a random one in development.

    Raises:
        MissingKeyError: the key is not set outside development.
    """
    value = getattr(settings, name)
    if value is not None:
        return bytes.fromhex(value.get_secret_value())
    variable = f"ASSUREHUB_{name.upper()}"
    if not settings.dev_headers:
        raise MissingKeyError(f"{variable} is required outside development")
    log.warning(
        "no key configured: a random one is used until this process stops",
        extra={"setting": variable},
    )
    return secrets.token_bytes(32)


def totp_secrets(settings: Settings) -> TotpSecrets:
    """TOTP secret encryption with the current key and the older versions."""
    keys = settings.totp_keys()
    if not keys:
        return TotpSecrets(identity_key(settings, "totp_encryption_keys"))
    (version, current), *older = keys
    return TotpSecrets(current, key_version=version, previous_keys=dict(older))
