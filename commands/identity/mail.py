"""One-time links sent by e-mail: invitations and password resets.

A link carries a single-use token stored only as its digest
(:class:`~commands.identity.ports.OneTimeTokenIssued`, which also revokes the
account's unused tokens of the same purpose) and is announced by a plain-text
message in the notification outbox, written in the same transaction as the
event that causes it. The message shows the link and, on its own line, the
raw token (``Token: ...``) for clients that paste it instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from commands.identity.crypto import BearerSecrets
from commands.identity.ports import IdentityRecord, OneTimeTokenIssued, OutboxMessage

INVITATION = "invitation"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a secret
MFA_LOGIN = "mfa_login"


@dataclass(frozen=True)
class Recipient:
    """Whom a link is for."""

    tenant_id: str
    tenant_name: str
    account_id: UUID
    email: str
    name: str


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


class OneTimeLinks:
    """Mints one-time tokens and writes the e-mails that carry them.

    Args:
        secrets: Mints the tokens.
        public_base_url: Where the web app is served (no trailing slash
            needed), e.g. ``https://app.example.com``.
    """

    def __init__(self, secrets: BearerSecrets, public_base_url: str) -> None:
        self._secrets = secrets
        self._base = public_base_url.rstrip("/")

    def invitation(
        self, to: Recipient, expires_at: datetime
    ) -> tuple[IdentityRecord, ...]:
        """The token and e-mail inviting ``to`` to set a password."""
        token, digest = self._secrets.mint("ah_inv_")
        body = (
            f"Hello {to.name},\n\n"
            f"You have been invited to {to.tenant_name} on AssureHub.\n"
            "To accept the invitation and choose your password, open:\n\n"
            f"{self._base}/accept-invitation?token={token}\n\n"
            f"Token: {token}\n\n"
            f"The invitation expires at {_when(expires_at)}.\n"
        )
        subject = f"Your invitation to {to.tenant_name} on AssureHub"
        return self._records(to, INVITATION, digest, expires_at, subject, body)

    def password_reset(
        self, to: Recipient, expires_at: datetime
    ) -> tuple[IdentityRecord, ...]:
        """The token and e-mail letting ``to`` choose a new password."""
        token, digest = self._secrets.mint("ah_reset_")
        body = (
            f"Hello {to.name},\n\n"
            f"Someone asked to reset your AssureHub password for {to.tenant_name}.\n"
            "To choose a new password, open:\n\n"
            f"{self._base}/reset-password?token={token}\n\n"
            f"Token: {token}\n\n"
            f"The link expires at {_when(expires_at)} and works once.\n"
            "If you did not ask for it, ignore this message: "
            "your password stays as it is.\n"
        )
        subject = f"Reset your AssureHub password for {to.tenant_name}"
        return self._records(to, PASSWORD_RESET, digest, expires_at, subject, body)

    @staticmethod
    def _records(
        to: Recipient,
        purpose: str,
        digest: str,
        expires_at: datetime,
        subject: str,
        body: str,
    ) -> tuple[IdentityRecord, ...]:
        return (
            OneTimeTokenIssued(
                digest, purpose, to.tenant_id, to.account_id, expires_at
            ),
            OutboxMessage(uuid4(), to.tenant_id, to.email, subject, body),
        )
