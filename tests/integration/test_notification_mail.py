"""Queued notifications reach a real SMTP server (aiosmtpd, run as its own
process) as multipart e-mails with their headers, once, even when the
dispatcher dies between claiming a message and sending it."""

from __future__ import annotations

import mailbox
import socket
import subprocess
import sys
import time
import typing
import uuid
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from domain.notifications import NotificationKind
from infra.mail import OutgoingMail, SmtpSender
from infra.notifications.render import NotificationTemplates
from infra.postgres.notifications import QueuedMail, Recipient, message_id
from infra.postgres.outbox import PostgresOutbox
from processors.mail import OutboxDispatcher

FROM = "AssureHub <no-reply@assurehub.test>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[int, mailbox.Maildir]]:
    """An aiosmtpd process delivering into a Maildir; stopped at teardown."""
    port = free_port()
    maildir = tmp_path / "maildir"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (
                process.stderr.read() if process.stderr else ""
            )
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "aiosmtpd did not listen in 30 s"
                time.sleep(0.05)
        yield port, mailbox.Maildir(maildir)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


@pytest.fixture
def tenant(container) -> Iterator[str]:
    name = f"mail-{uuid.uuid4().hex[:8]}"
    yield name
    with container.database.connection() as conn:
        conn.execute(
            "UPDATE notification_outbox SET next_attempt_at = NULL"
            " WHERE tenant_id = %s AND sent_at IS NULL",
            (name,),
        )


class Killed(BaseException):
    """Stands for the process being killed: nothing catches it."""


class DiesBeforeSending:
    def send(self, mail: OutgoingMail) -> None:
        raise Killed


def queue(container, tenant: str, language: str | None) -> uuid.UUID:
    """One certificate notification for one person, through the same code
    the notification processor uses."""
    kind = NotificationKind.CERTIFICATE_ISSUED
    account = uuid.uuid4()
    unsubscribe = "https://app.example.test/settings/notifications?unsubscribe=x"
    rendered = NotificationTemplates().render(
        kind,
        language,
        {
            "name": "Åsa Öberg",
            "link": "https://app.example.test/certificates/1",
            "unsubscribe_url": unsubscribe,
            "certificate": {
                "number": "NCAB-2026-000123",
                "standard_name": "ISO 9001 <QMS>",
                "expiry_date": "2029-12-01",
            },
        },
    )
    recipient = Recipient(account, f"{account.hex[:8]}@example.test", "Åsa", language)
    mail = QueuedMail(
        recipient, rendered.subject, rendered.text, rendered.html, unsubscribe
    )
    occurrence = f"test-{uuid.uuid4()}"
    store = container.notifications()
    assert store.queue(tenant, kind, occurrence, [mail]) == 1
    assert store.queue(tenant, kind, occurrence, [mail]) == 0  # once per occurrence
    return message_id(occurrence, account)


def delivered(box: mailbox.Maildir, message: uuid.UUID) -> list[Message]:
    return [m for m in box if str(message) in (m["Message-ID"] or "")]


def test_a_dispatcher_killed_after_claiming_leaves_one_multipart_mail_to_send(
    container, tenant, smtp_server
):
    port, box = smtp_server
    english = queue(container, tenant, "en")
    german = queue(container, tenant, "de")
    outbox = PostgresOutbox(container.database, lease_seconds=1)

    with pytest.raises(Killed):
        OutboxDispatcher(outbox, DiesBeforeSending()).tick()
    assert delivered(box, english) == delivered(box, german) == []

    sender = SmtpSender("127.0.0.1", port, starttls=False, mail_from=FROM)
    restarted = OutboxDispatcher(outbox, sender)
    deadline = time.monotonic() + 30
    while not (delivered(box, english) and delivered(box, german)):
        assert time.monotonic() < deadline, "the mail was not sent after restart"
        restarted.tick()
        time.sleep(0.2)
    restarted.tick()  # nothing left to send twice

    [mail] = delivered(box, english)
    assert mail["Subject"] == "Certificate NCAB-2026-000123 issued"
    assert "".join(mail["List-Unsubscribe"].split()) == (
        "<https://app.example.test/settings/notifications?unsubscribe=x>"
    )
    assert mail.get_content_type() == "multipart/alternative"
    text, html = typing.cast(list[Message], mail.get_payload())
    assert text.get_content_type() == "text/plain"
    assert (
        "ISO 9001 <QMS>" in typing.cast(bytes, text.get_payload(decode=True)).decode()
    )
    assert html.get_content_type() == "text/html"
    assert (
        "ISO 9001 &lt;QMS&gt;"
        in typing.cast(bytes, html.get_payload(decode=True)).decode()
    )
    [mail] = delivered(box, german)
    assert "ausgestellt" in str(mail["Subject"])
