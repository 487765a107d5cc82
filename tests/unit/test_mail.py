"""The .eml files the development mail sender writes, and picking a sender."""

from __future__ import annotations

import email
import os
import uuid
from datetime import UTC, datetime, timedelta, timezone
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from infra.mail import (
    EmlDirectorySender,
    MailDeliveryError,
    OutgoingMail,
    SmtpSender,
    sender_from_settings,
)
from infra.settings import Settings

FROM = "AssureHub <no-reply@mail.assurehub.test>"


def mail(**changes) -> OutgoingMail:
    fields: dict[str, Any] = {
        "message_id": uuid.uuid4(),
        "tenant_id": "acme-cert",
        "recipient": "zoe@example.com",
        "subject": "Einladung für Zoë — AssureHub",
        "body": "Grüße, Zoë!\nAccept: https://example.test/accept?t=abc\n",
        "created_at": datetime(2026, 11, 26, 9, 30, 5, 123456, tzinfo=UTC),
    }
    return OutgoingMail(**(fields | changes))


def read(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=default)


def test_a_message_becomes_one_eml_file_named_by_time_and_id(tmp_path):
    out = mail()
    EmlDirectorySender(tmp_path / "mail", FROM).send(out)
    files = list((tmp_path / "mail").iterdir())
    assert [f.name for f in files] == [f"20261126T093005123456Z-{out.message_id}.eml"]


def test_the_eml_file_has_the_headers_and_the_utf8_body(tmp_path):
    out = mail(
        created_at=datetime(2026, 11, 26, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    )
    sender = EmlDirectorySender(tmp_path, FROM)
    sender.send(out)
    message = read(sender.path_for(out))
    assert message["From"] == FROM
    assert message["To"] == "zoe@example.com"
    assert message["Subject"] == "Einladung für Zoë — AssureHub"
    assert message["Date"].datetime == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert message["Message-ID"] == f"<{out.message_id}@mail.assurehub.test>"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == out.body


def test_an_international_address_is_written_as_utf8_not_encoded_words(tmp_path):
    sender, out = EmlDirectorySender(tmp_path, FROM), mail(recipient="zoë@example.com")
    sender.send(out)
    assert "To: zoë@example.com\r\n" in sender.path_for(out).read_bytes().decode()


def test_the_file_is_rfc_5322_with_crlf_line_ends(tmp_path):
    sender = EmlDirectorySender(tmp_path, FROM)
    out = mail()
    sender.send(out)
    raw = sender.path_for(out).read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_sending_again_rewrites_the_same_file(tmp_path):
    sender, out = EmlDirectorySender(tmp_path, FROM), mail()
    sender.send(out)
    sender.send(out)
    assert len(list(tmp_path.iterdir())) == 1
    assert read(sender.path_for(out))["Message-ID"].startswith(f"<{out.message_id}@")


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    sender, out = EmlDirectorySender(tmp_path, FROM), mail()

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(MailDeliveryError, match="No space left"):
        sender.send(out)
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_directory_is_a_delivery_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(MailDeliveryError):
        EmlDirectorySender(blocker / "mail", FROM).send(mail())


def test_a_line_break_in_a_header_is_refused_not_injected(tmp_path):
    bad = mail(subject="Hello\r\nBcc: victim@example.com")
    with pytest.raises(MailDeliveryError):
        EmlDirectorySender(tmp_path, FROM).send(bad)
    assert list(tmp_path.iterdir()) == []


def settings(**values) -> Settings:
    return Settings(database_url="postgresql://u:p@127.0.0.1:1/db", **values)


def test_without_an_smtp_host_mail_goes_into_the_mail_directory(tmp_path):
    sender = sender_from_settings(settings(mail_dir=tmp_path, mail_from=FROM))
    assert isinstance(sender, EmlDirectorySender)
    sender.send(mail())
    assert read(next(tmp_path.iterdir()))["From"] == FROM


def test_with_an_smtp_host_mail_goes_over_smtp():
    sender = sender_from_settings(settings(smtp_host="smtp.example.test"))
    assert isinstance(sender, SmtpSender)
