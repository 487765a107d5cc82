"""The notification outbox in Postgres (table ``notification_outbox``).

Messages are written by the command side in the transaction of their events
(:mod:`infra.postgres.identity_records`); this module hands them out to be
sent. :meth:`PostgresOutbox.claim_due` locks due rows with ``FOR UPDATE SKIP
LOCKED`` and, in the same transaction, counts the attempt and pushes
``next_attempt_at`` one lease ahead. Two dispatchers therefore never claim
the same message: the second skips the locked rows, then finds them not due.
A dispatcher that dies between sending and :meth:`~PostgresOutbox.mark_sent`
leaves the message to be claimed again once the lease has passed (delivery is
at least once).

A failed attempt is retried after ``retry_base_seconds * 2**(attempts - 1)``
(capped at ``retry_max_seconds``); after ``max_attempts`` attempts the message
is given up (``next_attempt_at`` NULL) and an ERROR is logged.

A sent message's body is blanked: invitation and reset e-mails carry
single-use tokens that are otherwise stored only as digests, so the copy in
the outbox lives only until the e-mail is handed over. A message that is
never handed over keeps its body for a retention (for an operator to look
into) and is then blanked by housekeeping
(:meth:`PostgresOutbox.blank_given_up`): given up after its last attempt,
or stuck after a last attempt whose dispatcher died.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from infra.mail import OutgoingMail
from infra.postgres.pool import Database

log = logging.getLogger(__name__)

_CLAIM = """
WITH due AS (
    SELECT message_id FROM notification_outbox
    WHERE sent_at IS NULL AND next_attempt_at <= now() AND attempts < %(max)s
    ORDER BY next_attempt_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE notification_outbox o
SET attempts = o.attempts + 1,
    next_attempt_at = now() + make_interval(secs => %(lease)s)
FROM due WHERE o.message_id = due.message_id
RETURNING o.message_id, o.tenant_id, o.recipient, o.subject, o.body,
    o.created_at, o.attempts, o.html_body, o.unsubscribe_url
"""

_SENT = """
UPDATE notification_outbox
SET sent_at = now(), next_attempt_at = NULL, last_error = NULL, body = '',
    html_body = NULL
WHERE message_id = %s AND sent_at IS NULL
"""

_FAILED = """
UPDATE notification_outbox
SET last_error = %(error)s,
    next_attempt_at = CASE WHEN attempts >= %(max)s THEN NULL
        ELSE now() + make_interval(
            secs => least(%(base)s * power(2, attempts - 1), %(cap)s))
        END
WHERE message_id = %(id)s AND sent_at IS NULL
RETURNING tenant_id, attempts, next_attempt_at
"""

_BLANK_GIVEN_UP = """
UPDATE notification_outbox SET body = '', html_body = NULL
WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM notification_outbox
    WHERE sent_at IS NULL AND body <> '' AND created_at < now() - %(retention)s
      AND (next_attempt_at IS NULL
           OR (attempts >= %(max)s AND next_attempt_at < now()))
    LIMIT %(batch)s))
"""

_MAX_ERROR_CHARS = 2000


class PostgresOutbox:
    """Claims due messages and records how sending them went.

    Args:
        database: The pool.
        max_attempts: Attempts before a message is given up.
        retry_base_seconds: Wait after the first failed attempt; doubles.
        retry_max_seconds: The longest wait between attempts.
        lease_seconds: How long a claimed message is not handed out again
            (longer than sending one batch can take).
    """

    def __init__(
        self,
        database: Database,
        max_attempts: int = 10,
        retry_base_seconds: float = 30.0,
        retry_max_seconds: float = 3600.0,
        lease_seconds: float = 300.0,
    ) -> None:
        self._db = database
        self._max_attempts = max_attempts
        self._base = retry_base_seconds
        self._cap = retry_max_seconds
        self._lease = lease_seconds

    def backlog(self) -> tuple[int, float]:
        """Messages still to be sent (not given up), and the age in seconds
        of the oldest (0: none)."""
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT count(*), COALESCE(extract(epoch FROM now()"
                " - min(created_at)), 0) FROM notification_outbox"
                " WHERE sent_at IS NULL AND attempts < %s",
                (self._max_attempts,),
            ).fetchone()
        return (int(row[0]), float(row[1])) if row else (0, 0.0)

    def claim_due(self, limit: int) -> list[OutgoingMail]:
        """Up to ``limit`` due messages, oldest due first, now claimed by the
        caller (their ``attempts`` include this one)."""
        params = {"max": self._max_attempts, "limit": limit, "lease": self._lease}
        with self._db.connection() as conn, conn.transaction():
            rows = conn.execute(_CLAIM, params).fetchall()
        mails = [OutgoingMail(*row) for row in rows]
        return sorted(mails, key=lambda m: m.created_at)

    def mark_sent(self, message_id: UUID) -> None:
        """Record that ``message_id`` was handed over; it is not sent again."""
        with self._db.connection() as conn:
            conn.execute(_SENT, (message_id,))

    def mark_failed(self, message_id: UUID, error: str) -> None:
        """Record a failed attempt: retry later, or give up past the limit."""
        params = {
            "id": message_id,
            "error": error[:_MAX_ERROR_CHARS],
            "max": self._max_attempts,
            "base": self._base,
            "cap": self._cap,
        }
        with self._db.connection() as conn:
            row = conn.execute(_FAILED, params).fetchone()
        if row is not None and row[2] is None:
            log.error(
                "notification not sent; giving up",
                extra={
                    "message_id": str(message_id),
                    "tenant_id": row[0],
                    "attempts": row[1],
                    "error": error[:_MAX_ERROR_CHARS],
                },
            )

    def blank_given_up(self, retention: timedelta, batch: int = 5_000) -> int:
        """Blank the bodies of messages never handed over (given up, or past
        their last attempt) written more than ``retention`` ago; return how
        many. Done in batches so that no long lock holds up the dispatcher.
        """
        params = {"retention": retention, "max": self._max_attempts, "batch": batch}
        blanked = 0
        with self._db.connection() as conn:
            while True:
                done = conn.execute(_BLANK_GIVEN_UP, params).rowcount
                blanked += done
                if done < batch:
                    return blanked
