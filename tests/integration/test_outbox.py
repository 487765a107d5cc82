"""The notification outbox in real Postgres, sent by the dispatcher, and
kept by housekeeping."""

from __future__ import annotations

import email
import logging
import socketserver
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from email.policy import default

import pytest

from infra.mail import EmlDirectorySender, MailDeliveryError, OutgoingMail, SmtpSender
from infra.postgres.outbox import PostgresOutbox
from infra.postgres.pool import Database
from processors.housekeeping import chores, run_housekeeping
from processors.mail import OutboxDispatcher

FROM = "AssureHub <no-reply@assurehub.test>"


@pytest.fixture
def tenant(container):
    """A tenant of its own; its messages are retired at teardown, so no other
    test's dispatcher finds them due."""
    name = f"outbox-{uuid.uuid4().hex[:8]}"
    yield name
    with container.database.connection() as conn:
        conn.execute(
            "UPDATE notification_outbox SET next_attempt_at = NULL"
            " WHERE tenant_id = %s AND sent_at IS NULL",
            (name,),
        )


def enqueue(database: Database, tenant: str, recipient: str) -> uuid.UUID:
    message_id = uuid.uuid4()
    with database.connection() as conn:
        conn.execute(
            "INSERT INTO notification_outbox (message_id, tenant_id, recipient,"
            " subject, body) VALUES (%s, %s, %s, %s, %s)",
            (message_id, tenant, recipient, f"Hello {recipient}", "Welcome — ça va?"),
        )
    return message_id


def rows(database: Database, tenant: str) -> dict[uuid.UUID, tuple]:
    with database.connection() as conn:
        found = conn.execute(
            "SELECT message_id, sent_at, attempts, last_error,"
            " extract(epoch FROM next_attempt_at - now())"
            " FROM notification_outbox WHERE tenant_id = %s",
            (tenant,),
        ).fetchall()
    return {r[0]: r[1:] for r in found}


def drain(dispatcher: OutboxDispatcher, database: Database, tenant: str) -> None:
    deadline = time.monotonic() + 30
    while any(
        r[0] is None and r[3] is not None and r[3] <= 0
        for r in rows(database, tenant).values()
    ):
        assert time.monotonic() < deadline, "the outbox did not drain in 30 s"
        dispatcher.tick()


class FailingFor:
    """Writes .eml files, except for one recipient."""

    def __init__(self, inner: EmlDirectorySender, recipient: str) -> None:
        self.inner, self.recipient = inner, recipient

    def send(self, mail: OutgoingMail) -> None:
        if mail.recipient == self.recipient:
            raise MailDeliveryError("smtp said 451 try again later")
        self.inner.send(mail)


def test_due_messages_become_eml_files_and_are_marked_sent(container, tenant, tmp_path):
    db = container.database
    ids = {enqueue(db, tenant, f"user{i}@example.com") for i in range(3)}
    dispatcher = OutboxDispatcher(
        PostgresOutbox(db), EmlDirectorySender(tmp_path, FROM)
    )

    drain(dispatcher, db, tenant)

    files = sorted(tmp_path.glob("*.eml"))
    assert {uuid.UUID(f.stem[-36:]) for f in files} >= ids
    mine = [
        email.message_from_bytes(f.read_bytes(), policy=default)
        for f in files
        if uuid.UUID(f.stem[-36:]) in ids
    ]
    assert sorted(m["To"] for m in mine) == [f"user{i}@example.com" for i in range(3)]
    assert {m.get_content().strip() for m in mine} == {"Welcome — ça va?"}
    state = rows(db, tenant)
    assert all(state[i][0] is not None and state[i][1] == 1 for i in ids)

    dispatcher.tick()  # sent messages are not sent again
    assert (
        len([f for f in tmp_path.glob("*.eml") if uuid.UUID(f.stem[-36:]) in ids]) == 3
    )
    assert all(rows(db, tenant)[i][1] == 1 for i in ids)
    with db.connection() as conn:  # the tokens a body may carry are gone
        bodies = conn.execute(
            "SELECT body FROM notification_outbox WHERE message_id = ANY(%s)",
            (list(ids),),
        ).fetchall()
    assert [b for (b,) in bodies] == ["", "", ""]


def test_a_failing_message_backs_off_and_does_not_hold_up_others(
    container, tenant, tmp_path
):
    db = container.database
    bad = enqueue(db, tenant, "bounce@example.com")
    good = [enqueue(db, tenant, f"ok{i}@example.com") for i in range(2)]
    sender = FailingFor(EmlDirectorySender(tmp_path, FROM), "bounce@example.com")
    dispatcher = OutboxDispatcher(PostgresOutbox(db), sender)

    drain(dispatcher, db, tenant)

    state = rows(db, tenant)
    assert all(state[g][0] is not None for g in good)
    sent_at, attempts, last_error, due_in = state[bad]
    assert (sent_at, attempts) == (None, 1)
    assert "451 try again later" in last_error
    assert 20 < due_in <= 30  # first retry after 30 s


def test_retries_wait_longer_each_time_and_stop_after_the_limit(
    container, tenant, tmp_path, caplog
):
    db = container.database
    bad = enqueue(db, tenant, "bounce@example.com")
    outbox = PostgresOutbox(db, max_attempts=3, retry_base_seconds=100)
    sender = FailingFor(EmlDirectorySender(tmp_path, FROM), "bounce@example.com")
    dispatcher = OutboxDispatcher(outbox, sender)
    waits = []
    with caplog.at_level(logging.ERROR, logger="infra.postgres.outbox"):
        for _ in range(3):
            dispatcher.tick()
            waits.append(rows(db, tenant)[bad][3])
            with db.connection() as conn:  # let the retry come due now
                conn.execute(
                    "UPDATE notification_outbox SET next_attempt_at = now()"
                    " WHERE message_id = %s AND next_attempt_at IS NOT NULL",
                    (bad,),
                )
        dispatcher.tick()

    assert 90 < waits[0] <= 100
    assert 190 < waits[1] <= 200
    assert waits[2] is None  # given up
    assert rows(db, tenant)[bad][:2] == (None, 3)
    given_up = [r for r in caplog.records if r.name == "infra.postgres.outbox"]
    assert [r.levelno for r in given_up] == [logging.ERROR]
    assert given_up[0].message_id == str(bad)


def test_two_dispatchers_send_each_message_once(container, migrated, tenant, tmp_path):
    ids = {enqueue(container.database, tenant, f"u{i}@example.com") for i in range(40)}
    sent: Counter[uuid.UUID] = Counter()
    lock = threading.Lock()

    class Recording:
        def send(self, mail: OutgoingMail) -> None:
            time.sleep(0.002)  # let the two dispatchers overlap
            with lock:
                sent[mail.message_id] += 1

    databases = [Database(str(migrated.database_url), max_size=2) for _ in range(2)]
    dispatchers = [
        OutboxDispatcher(PostgresOutbox(d), Recording(), batch=5) for d in databases
    ]
    start = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def work(dispatcher: OutboxDispatcher) -> None:
        try:
            start.wait()
            deadline = time.monotonic() + 30
            while dispatcher.tick().claimed and time.monotonic() < deadline:
                pass
        except BaseException as e:  # reported by the test thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(d,)) for d in dispatchers]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for d in databases:
            d.close()

    assert not errors
    assert {i: sent[i] for i in ids} == dict.fromkeys(ids, 1)
    assert all(r[0] is not None for r in rows(container.database, tenant).values())


class SmtpSink(socketserver.ThreadingTCPServer):
    """A minimal SMTP server on loopback: keeps what it receives; refuses
    recipients at ``refuse`` domains with 550."""

    daemon_threads = True

    def __init__(self, refuse: str = "refused.example") -> None:
        self.received: list[bytes] = []
        self.refuse = refuse
        super().__init__(("127.0.0.1", 0), _SmtpSession)


class _SmtpSession(socketserver.StreamRequestHandler):
    server: SmtpSink

    def handle(self) -> None:
        self.wfile.write(b"220 sink ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"RCPT" and self.server.refuse.encode() in line:
                self.wfile.write(b"550 no such user\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                self.server.received.append(data)
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    yield sink
    sink.shutdown()
    sink.server_close()


def test_over_smtp_a_message_is_submitted_or_the_refusal_is_kept(
    container, tenant, smtp_sink
):
    db = container.database
    good = enqueue(db, tenant, "ann@example.com")
    bad = enqueue(db, tenant, "nobody@refused.example")
    port = smtp_sink.server_address[1]
    sender = SmtpSender("127.0.0.1", port, starttls=False, timeout=5, mail_from=FROM)
    dispatcher = OutboxDispatcher(PostgresOutbox(db), sender)

    drain(dispatcher, db, tenant)

    messages = [email.message_from_bytes(m, policy=default) for m in smtp_sink.received]
    assert [m["To"] for m in messages if m["To"] == "ann@example.com"] == [
        "ann@example.com"
    ]
    state = rows(db, tenant)
    assert state[good][0] is not None
    assert state[bad][0] is None
    assert "550" in state[bad][2]


def aged(
    database: Database, tenant: str, hours: float, attempts: int, due_in: str | None
) -> uuid.UUID:
    """A message written ``hours`` ago after ``attempts`` attempts, due again
    in ``due_in`` (an interval; ``None``: given up)."""
    message_id = enqueue(database, tenant, f"{uuid.uuid4().hex[:8]}@example.com")
    with database.connection() as conn:
        conn.execute(
            "UPDATE notification_outbox SET created_at = now() - make_interval("
            "hours => %s), attempts = %s, next_attempt_at = now() + %s::interval"
            " WHERE message_id = %s",
            (hours, attempts, due_in, message_id),
        )
    return message_id


def test_housekeeping_blanks_bodies_given_up_past_their_retention(container, tenant):
    db = container.database
    outbox = PostgresOutbox(db, max_attempts=3)
    given_up = aged(db, tenant, 25, 3, None)
    stuck = aged(db, tenant, 25, 3, "-1 minute")  # its last attempt died
    sent = enqueue(db, tenant, "sent@example.com")
    outbox.mark_sent(sent)
    kept = {
        "given up within the retention": aged(db, tenant, 23, 3, None),
        "still being retried": aged(db, tenant, 25, 1, "1 hour"),
        "in its last attempt": aged(db, tenant, 25, 3, "4 minutes"),
    }
    stop = threading.Event()
    tasks = chores(db, outbox, timedelta(hours=48), timedelta(hours=24))

    run_housekeeping(stop, tasks, 0, beat=stop.set)  # one round

    with db.connection() as conn:
        body = dict(
            conn.execute(
                "SELECT message_id, body FROM notification_outbox WHERE tenant_id = %s",
                (tenant,),
            ).fetchall()
        )
    assert (body[given_up], body[stuck], body[sent]) == ("", "", "")
    assert {k: body[m] for k, m in kept.items()} == dict.fromkeys(
        kept, "Welcome — ça va?"
    )
