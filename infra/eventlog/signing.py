"""Checkpoint signing keys and the signer.

Keys come from ``ASSUREHUB_LOG_SIGNING_KEYS`` (``var/secrets`` locally):
Ed25519 seeds by key id, the first one signs. Outside development a missing
key stops the process at start-up; in development a random key (its id
``dev-…``) is used until the process stops. Each key's public half is
recorded in ``log_signing_keys`` before its first signature and stays
published after the key is retired, so old checkpoints still verify.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from infra.errors import SettingError
from infra.eventstore.log_verifier import checkpoint_message
from infra.postgres import event_log
from infra.postgres.event_log import CheckpointRow
from infra.postgres.pool import Database
from infra.settings import Settings

log = logging.getLogger(__name__)


class SigningKeyError(SettingError):
    """No signing key outside development, or a key id reused for another key."""


def signing_keys(settings: Settings) -> list[tuple[str, Ed25519PrivateKey]]:
    """The configured keys, the signing one first.

    Raises:
        SigningKeyError: none is configured outside development.
    """
    keys = settings.log_keys()
    if keys:
        return [(i, Ed25519PrivateKey.from_private_bytes(s)) for i, s in keys]
    if not settings.dev_headers:
        raise SigningKeyError(
            "ASSUREHUB_LOG_SIGNING_KEYS is required outside development"
        )
    log.warning(
        "no log signing key configured: a random one is used until this process stops",
        extra={"setting": "ASSUREHUB_LOG_SIGNING_KEYS"},
    )
    return [(f"dev-{secrets.token_hex(4)}", Ed25519PrivateKey.generate())]


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class CheckpointSigner:
    """Signs chain heads with the current key (published first)."""

    def __init__(
        self, database: Database, keys: list[tuple[str, Ed25519PrivateKey]]
    ) -> None:
        self._db = database
        self._keys = keys
        self._published = False

    def publish(self) -> None:
        """Record every configured key's public half.

        Raises:
            SigningKeyError: a key id already names another public key.
        """
        with self._db.connection() as conn:
            for key_id, key in self._keys:
                if event_log.publish_key(conn, key_id, raw_public(key)) != raw_public(
                    key
                ):
                    raise SigningKeyError(f"key id {key_id} names another key")
        self._published = True

    def sign(self, tenant_id: str, position: int, head: bytes) -> CheckpointRow:
        """Sign and record the checkpoint (tenant, position, head)."""
        if not self._published:
            self.publish()
        key_id, key = self._keys[0]
        checkpoint = CheckpointRow(
            tenant_id,
            position,
            head,
            key_id,
            key.sign(checkpoint_message(tenant_id, position, head)),
            datetime.now(UTC),
        )
        with self._db.connection() as conn:
            event_log.record_checkpoint(conn, checkpoint)
        return checkpoint
