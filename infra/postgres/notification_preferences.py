"""Notification preferences, languages and the outbox as tenant
administrators see it (tables ``notification_preferences``,
``account_languages``, ``notification_outbox``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from commands.notification_preferences import SentNotification
from infra.postgres.pool import Database

_CHOICES = """
SELECT kind, enabled FROM notification_preferences
WHERE tenant_id = %s AND account_id IS NOT DISTINCT FROM %s
"""

_SAVE = """
INSERT INTO notification_preferences (tenant_id, account_id, kind, enabled)
VALUES (%s, %s, %s, %s)
ON CONFLICT (tenant_id, coalesce(account_id::text, ''), kind)
DO UPDATE SET enabled = excluded.enabled, updated_at = now()
"""

_LANGUAGE = """
INSERT INTO account_languages (tenant_id, account_id, language) VALUES (%s, %s, %s)
ON CONFLICT (tenant_id, account_id) DO UPDATE SET language = excluded.language
"""

_SENT = """
WITH o AS (
    SELECT message_id, kind, recipient, subject,
        CASE WHEN sent_at IS NOT NULL THEN 'sent'
             WHEN next_attempt_at IS NULL THEN 'failed' ELSE 'queued' END AS status,
        attempts, last_error, created_at, sent_at
    FROM notification_outbox
    WHERE tenant_id = %(tenant)s AND (%(kind)s::text IS NULL OR kind = %(kind)s)
      AND (%(at)s::timestamptz IS NULL
           OR (created_at, message_id) < (%(at)s, %(id)s::uuid))
)
SELECT * FROM o WHERE %(status)s::text IS NULL OR status = %(status)s
ORDER BY created_at DESC, message_id DESC LIMIT %(limit)s
"""


class PostgresPreferences:
    """The :class:`~commands.notification_preferences.PreferenceStore` in
    Postgres."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def choices(self, tenant_id: str, account_id: UUID | None) -> dict[str, bool]:
        with self._db.connection() as conn:
            rows = conn.execute(_CHOICES, (tenant_id, account_id)).fetchall()
        return {str(kind): bool(enabled) for kind, enabled in rows}

    def language(self, tenant_id: str, account_id: UUID) -> str | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT language FROM account_languages"
                " WHERE tenant_id = %s AND account_id = %s",
                (tenant_id, account_id),
            ).fetchone()
        return None if row is None else str(row[0])

    def is_account(self, tenant_id: str, account_id: UUID) -> bool:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT 1 FROM identity_accounts"
                " WHERE tenant_id = %s AND account_id = %s",
                (tenant_id, account_id),
            ).fetchone()
        return row is not None

    def save(
        self,
        tenant_id: str,
        account_id: UUID | None,
        kinds: Mapping[str, bool],
        language: str | None,
    ) -> None:
        with self._db.connection() as conn, conn.transaction():
            for kind, enabled in sorted(kinds.items()):
                conn.execute(_SAVE, (tenant_id, account_id, kind, enabled))
            if account_id is not None and language is not None:
                conn.execute(_LANGUAGE, (tenant_id, account_id, language))

    def sent(
        self,
        tenant_id: str,
        status: str | None,
        kind: str | None,
        limit: int,
        before: tuple[datetime, UUID] | None = None,
    ) -> list[SentNotification]:
        at, id_ = before if before else (None, None)
        params = {
            "tenant": tenant_id,
            "status": status,
            "kind": kind,
            "limit": limit,
            "at": at,
            "id": id_,
        }
        with self._db.connection() as conn:
            rows = conn.execute(_SENT, params).fetchall()
        return [SentNotification(*row) for row in rows]
