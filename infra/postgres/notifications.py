"""Notifications in Postgres: the processor's intents, who receives them, and
the outbox rows they become.

The ``notifications`` projection adds one intent per event that calls for
e-mails (``rm_notifications.intents``); :meth:`PostgresNotifications.claim`
hands them out (``FOR UPDATE SKIP LOCKED``, then leased like the document
jobs), :meth:`~PostgresNotifications.context` reads what the e-mail may say
from the read models, :meth:`~PostgresNotifications.recipients` who receives
it, and :meth:`~PostgresNotifications.queue` writes one outbox row per
recipient and drops the intent in one transaction. Outbox rows are keyed by
occurrence (the event id, or a scheduled job's occurrence) and account: a
second attempt, or a second processor, inserts nothing twice.

Recipients are active accounts of the event's tenant that have not switched
the kind off (their own preference, else the tenant's default, else on;
security kinds are sent whatever a preference says). An account holding a
client role receives only what concerns one of its organizations, whoever it
was chosen by; an audience without an organization (a person's own security
e-mail) concerns none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from psycopg import sql
from psycopg.rows import dict_row

from domain.notifications import NotificationKind
from domain.principal import CLIENT_ROLES
from infra.postgres.pool import Connection, Database
from infra.postgres.rows import qualified
from projections.notification_intents import INTENTS, NotificationIntentsProjection

_INTENTS = qualified(NotificationIntentsProjection.name, INTENTS.name)
_KEY = sql.SQL("tenant_id = %(tenant)s AND event_id = %(event)s")
_OUTBOX_IDS = UUID("3f0c1f4e-4a77-4d61-9f39-8f1c3b7e2a10")
"""Namespace of outbox message ids derived from occurrence and account."""

_CLAIM = sql.SQL("""
WITH due AS (
    SELECT tenant_id, event_id FROM {intents}
    WHERE due_at IS NULL OR due_at <= now()
    ORDER BY position LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE {intents} i
SET attempts = i.attempts + 1, due_at = now() + make_interval(secs => %(lease)s)
FROM due WHERE (i.tenant_id, i.event_id) = (due.tenant_id, due.event_id)
RETURNING i.tenant_id, i.event_id, i.kind, i.subject_id, i.facts, i.position,
    i.attempts
""").format(intents=_INTENTS)

_AUDIT = sql.SQL("""
SELECT a.id, a.organization_id, a.standard_name, a.planned_start, a.planned_end,
    a.lead_auditor, a.team, a.technical_reviewer, o.name AS organization_name
FROM {audits} a LEFT JOIN {organizations} o
    ON o.tenant_id = a.tenant_id AND o.id = a.organization_id
WHERE a.tenant_id = %s AND a.id = %s
""").format(
    audits=qualified("audits", "audits"),
    organizations=qualified("organizations", "organizations"),
)

_FINDING = sql.SQL("""
SELECT id, audit_id, clause_id, grade, due_date FROM {}
WHERE tenant_id = %s AND id = %s
""").format(qualified("audits", "findings"))

_CERTIFICATE = sql.SQL("""
SELECT id, organization_id, number, standard_name, expiry_date FROM {}
WHERE tenant_id = %s AND id = %s
""").format(qualified("certificates", "certificates"))

_RECIPIENTS = sql.SQL("""
SELECT a.id, a.email, a.name, l.language
FROM {accounts} a
LEFT JOIN account_languages l ON l.tenant_id = a.tenant_id AND l.account_id = a.id
WHERE a.tenant_id = %(tenant)s AND a.status = 'active'
  AND (a.id::text = ANY(%(ids)s) OR a.roles && %(roles)s)
  AND (NOT a.roles && %(client_roles)s
       OR %(organization)s::uuid IS NULL
       OR %(organization)s::uuid = ANY(a.organization_ids))
  AND (NOT %(optional)s OR coalesce(
        (SELECT enabled FROM notification_preferences p
         WHERE p.tenant_id = a.tenant_id AND p.account_id = a.id
           AND p.kind = %(kind)s),
        (SELECT enabled FROM notification_preferences p
         WHERE p.tenant_id = a.tenant_id AND p.account_id IS NULL
           AND p.kind = %(kind)s),
        true))
ORDER BY a.id
""").format(accounts=qualified("accounts", "accounts"))

_QUEUE = """
INSERT INTO notification_outbox (message_id, tenant_id, recipient, subject, body,
    html_body, unsubscribe_url, kind, occurrence, account_id)
VALUES (%(message_id)s, %(tenant)s, %(recipient)s, %(subject)s, %(body)s,
    %(html)s, %(unsubscribe)s, %(kind)s, %(occurrence)s, %(account)s)
ON CONFLICT (occurrence, account_id) WHERE occurrence IS NOT NULL DO NOTHING
"""

_MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class Intent:
    """One event still to be turned into e-mails."""

    tenant_id: str
    event_id: str
    kind: NotificationKind
    subject_id: UUID
    facts: dict[str, Any]
    position: int
    attempts: int


@dataclass(frozen=True)
class Audience:
    """Who a notification is for: accounts by id, and everyone with a role.

    Attributes:
        account_ids: Accounts named by the resource (the team, the reviewer).
        roles: Roles whose holders receive it.
        organization_id: The client organization it concerns; an account with
            a client role receives it only if this is one of its organizations
            (``None``: it concerns no organization, e.g. a security e-mail to
            the account itself).
    """

    account_ids: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    organization_id: UUID | None = None


@dataclass(frozen=True)
class Recipient:
    account_id: UUID
    email: str
    name: str
    language: str | None


@dataclass(frozen=True)
class QueuedMail:
    """One rendered e-mail for one recipient."""

    recipient: Recipient
    subject: str
    text: str
    html: str
    unsubscribe_url: str | None


def message_id(occurrence: str, account_id: UUID) -> UUID:
    """The outbox id of ``occurrence``'s message to ``account_id``: the same
    on every attempt, so the mail's ``Message-ID`` is too."""
    return uuid5(_OUTBOX_IDS, f"{occurrence}/{account_id}")


class PostgresNotifications:
    """Claims intents, reads their context and queues their e-mails.

    Args:
        database: The pool.
        lease_seconds: How long a claimed intent is not handed out again.
        retry_seconds: How long an intent waits after a failed attempt (or
            while the read models it needs are behind).
    """

    def __init__(
        self,
        database: Database,
        lease_seconds: float = 60.0,
        retry_seconds: float = 5.0,
    ) -> None:
        self._db = database
        self._lease = lease_seconds
        self._retry = retry_seconds

    def claim(self, limit: int) -> list[Intent]:
        """Up to ``limit`` due intents, oldest event first."""
        with self._db.connection() as conn, conn.transaction():
            rows = conn.execute(
                _CLAIM, {"limit": limit, "lease": self._lease}
            ).fetchall()
        intents = [
            Intent(t, e, NotificationKind(k), s, dict(f), int(p), int(a))
            for t, e, k, s, f, p, a in rows
        ]
        return sorted(intents, key=lambda i: i.position)

    def audit(self, tenant_id: str, audit_id: UUID) -> dict[str, Any] | None:
        """The audit's row (with its organization's name), if projected."""
        return self._one(_AUDIT, tenant_id, audit_id)

    def finding(self, tenant_id: str, finding_id: UUID) -> dict[str, Any] | None:
        """The finding's row, if projected."""
        return self._one(_FINDING, tenant_id, finding_id)

    def certificate(
        self, tenant_id: str, certificate_id: UUID
    ) -> dict[str, Any] | None:
        """The certificate's row, if projected."""
        return self._one(_CERTIFICATE, tenant_id, certificate_id)

    def _one(self, query: sql.Composed, *params: Any) -> dict[str, Any] | None:
        with (
            self._db.connection() as conn,
            conn.cursor(row_factory=dict_row) as cursor,
        ):
            return cursor.execute(query, params).fetchone()

    def recipients(
        self, tenant_id: str, kind: NotificationKind, audience: Audience
    ) -> list[Recipient]:
        """The active accounts of ``audience`` that receive ``kind``."""
        params = {
            "tenant": tenant_id,
            "ids": list(audience.account_ids),
            "roles": list(audience.roles),
            "client_roles": sorted(CLIENT_ROLES),
            "organization": audience.organization_id,
            "kind": kind.value,
            "optional": kind.optional,
        }
        with self._db.connection() as conn:
            rows = conn.execute(_RECIPIENTS, params).fetchall()
        return [Recipient(*row) for row in rows]

    def queue(
        self,
        tenant_id: str,
        kind: NotificationKind,
        occurrence: str,
        mails: list[QueuedMail],
        intent: Intent | None = None,
    ) -> int:
        """Write the outbox rows of ``occurrence`` (those not yet written) and
        drop ``intent``, in one transaction; return how many rows are new."""
        with self._db.connection() as conn, conn.transaction():
            added = queue_mails(conn, tenant_id, kind, occurrence, mails)
            if intent is not None:
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE {}").format(_INTENTS, _KEY),
                    {"tenant": intent.tenant_id, "event": intent.event_id},
                )
        return added

    def retry(self, intent: Intent, error: str) -> None:
        """Leave ``intent`` for a later attempt, noting why."""
        with self._db.connection() as conn:
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET last_error = %(error)s,"
                    " due_at = now() + make_interval(secs => %(wait)s) WHERE {}"
                ).format(_INTENTS, _KEY),
                {
                    "tenant": intent.tenant_id,
                    "event": intent.event_id,
                    "error": error[:_MAX_ERROR_CHARS],
                    "wait": self._retry,
                },
            )


def queue_mails(
    conn: Connection,
    tenant_id: str,
    kind: NotificationKind,
    occurrence: str,
    mails: list[QueuedMail],
) -> int:
    """Insert ``occurrence``'s outbox rows on ``conn`` (in the caller's
    transaction); one per account, whatever was inserted before."""
    added = 0
    for mail in mails:
        account = mail.recipient.account_id
        added += conn.execute(
            _QUEUE,
            {
                "message_id": message_id(occurrence, account),
                "tenant": tenant_id,
                "recipient": mail.recipient.email,
                "subject": mail.subject,
                "body": mail.text,
                "html": mail.html,
                "unsubscribe": mail.unsubscribe_url,
                "kind": kind.value,
                "occurrence": occurrence,
                "account": account,
            },
        ).rowcount
    return added
