"""Sending the notification e-mails the outbox holds.

A :class:`MailSender` delivers one :class:`OutgoingMail`. Two adapters:

- :class:`EmlDirectorySender` (development, tests) writes each message as an
  RFC 5322 ``.eml`` file into a directory, atomically: a reader never sees
  half a file, and sending the same message again rewrites the same file.
- :class:`SmtpSender` hands it to an SMTP server (STARTTLS by default).

Both build the same message with :func:`compose` (plain text, with an HTML
alternative and a ``List-Unsubscribe`` header where the outbox row has them).
Its ``Message-ID`` is derived from the outbox message id, so a message sent
twice (delivery is at least once) carries the same id and mail clients can
tell the copies apart.
Driver errors become :class:`MailDeliveryError`.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol
from uuid import UUID

from infra.errors import InfrastructureError
from infra.settings import Settings

DEFAULT_FROM = "AssureHub <no-reply@assurehub.invalid>"


class MailDeliveryError(InfrastructureError):
    """A message could not be handed over (the outbox tries again later)."""


@dataclass(frozen=True)
class OutgoingMail:
    """One message of the outbox."""

    message_id: UUID
    tenant_id: str
    recipient: str
    subject: str
    body: str
    created_at: datetime
    attempts: int = 0
    html_body: str | None = None
    """An HTML alternative to ``body`` (the message is then multipart)."""
    unsubscribe_url: str | None = None
    """Where the recipient switches this kind of message off
    (``List-Unsubscribe``); ``None`` for messages that cannot be."""


class MailSender(Protocol):
    """Delivers a message, or raises :class:`MailDeliveryError`."""

    def send(self, mail: OutgoingMail) -> None:
        """Hand ``mail`` over for delivery.

        Raises:
            MailDeliveryError: It was not handed over; sending it again is safe.
        """


def compose(mail: OutgoingMail, mail_from: str) -> EmailMessage:
    """The RFC 5322 message for ``mail``, sent from ``mail_from``.

    Raises:
        MailDeliveryError: A header cannot be built (e.g. a line break in the
            subject or recipient).
    """
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "assurehub.invalid"
    message = EmailMessage()
    try:
        message["From"] = mail_from
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(mail.created_at.astimezone(UTC))
        message["Message-ID"] = f"<{mail.message_id}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        if mail.unsubscribe_url:
            message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
    except (ValueError, IndexError) as e:
        raise MailDeliveryError(f"message {mail.message_id}: {e}") from e
    message.set_content(mail.body, charset="utf-8")
    if mail.html_body:
        message.add_alternative(mail.html_body, subtype="html", charset="utf-8")
    return message


class EmlDirectorySender:
    """Writes each message as ``<created_at>-<message_id>.eml`` in ``mail_dir``.

    Args:
        mail_dir: The directory (created when missing).
        mail_from: The ``From`` header.
    """

    def __init__(self, mail_dir: Path, mail_from: str = DEFAULT_FROM) -> None:
        self._dir = mail_dir
        self._from = mail_from

    def path_for(self, mail: OutgoingMail) -> Path:
        """Where ``mail`` is (or will be) written."""
        stamp = mail.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return self._dir / f"{stamp}-{mail.message_id}.eml"

    def send(self, mail: OutgoingMail) -> None:
        """Write ``mail`` to a temporary file, then rename it into place."""
        # RFC 6532 (raw UTF-8 headers) only where an address needs it
        policy = SMTP if mail.recipient.isascii() else SMTPUTF8
        data = compose(mail, self._from).as_bytes(policy=policy)
        target = self.path_for(mail)
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self._dir, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise MailDeliveryError(f"cannot write {target.name}: {e}") from e


class SmtpSender:
    """Sends over SMTP, one connection per message.

    Args:
        host: The SMTP server.
        port: Its port (587 for submission with STARTTLS).
        username: Login, if the server wants one.
        password: Its password.
        starttls: Upgrade the connection with STARTTLS (certificate verified)
            before logging in.
        timeout: Seconds for connecting and each command.
        mail_from: The ``From`` header and envelope sender.
    """

    def __init__(
        self,
        host: str,
        port: int = 587,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 10.0,
        mail_from: str = DEFAULT_FROM,
    ) -> None:
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout
        self._from = mail_from

    def send(self, mail: OutgoingMail) -> None:
        """Submit ``mail`` to the server."""
        message = compose(mail, self._from)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as e:
            raise MailDeliveryError(
                f"smtp {self._host}:{self._port} refused message {mail.message_id}: {e}"
            ) from e


def sender_from_settings(settings: Settings) -> MailSender:
    """SMTP when ``smtp_host`` is set, else ``.eml`` files in ``mail_dir``."""
    if settings.smtp_host:
        password = settings.smtp_password
        return SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_username,
            password.get_secret_value() if password else None,
            settings.smtp_starttls,
            mail_from=settings.mail_from,
        )
    return EmlDirectorySender(settings.mail_dir, settings.mail_from)
