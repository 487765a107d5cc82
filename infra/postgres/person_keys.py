"""The per-person data keys in Postgres (table ``person_keys``).

A row with ``data_key`` NULL and ``erased_at`` set is the tombstone of an
erasure: :meth:`PostgresPersonKeys.key_for` never makes that key again. The
erasure itself destroys the key in the transaction of its event
(:func:`destroy_key`, called by the identity side records).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError
from psycopg.rows import tuple_row

from infra.postgres.errors import raise_if_unreachable

_SELECT = "SELECT data_key FROM person_keys WHERE tenant_id = %s AND person_id = %s"

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


class PostgresPersonKeys:
    """:class:`~infra.erasure.keys.PersonKeys` over ``person_keys``.

    Args:
        connect: Gives a pooled connection (the event store's or ours).
    """

    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._new = threading.local()

    def new_key(self, tenant_id: str, person_id: UUID) -> bytes:
        """A key for a person who appears for the first time (their
        aggregate's creation), inserted with the events sealed with it, in
        their transaction (by the event store's recorder, through
        :meth:`take_new`, on this thread)."""
        key = os.urandom(32)
        pending = getattr(self._new, "keys", None)
        if pending is None:
            pending = self._new.keys = {}
        # A retried append seals again: the newest key is the one its events hold.
        pending[(tenant_id, person_id)] = key
        return key

    def take_new(self) -> list[tuple[str, UUID, bytes]]:
        """The keys :meth:`new_key` made on this thread since the last call."""
        pending: dict[tuple[str, UUID], bytes] = getattr(self._new, "keys", None) or {}
        self._new.keys = {}
        return [(tenant, person, key) for (tenant, person), key in pending.items()]

    def keys(
        self, tenant_id: str, person_ids: Collection[UUID]
    ) -> dict[UUID, bytes | None]:
        if not person_ids:
            return {}
        try:
            with self._connect() as conn:
                rows = (
                    conn.cursor(row_factory=tuple_row)
                    .execute(
                        "SELECT person_id, data_key FROM person_keys"
                        " WHERE tenant_id = %s AND person_id = ANY(%s)",
                        (tenant_id, list(person_ids)),
                    )
                    .fetchall()
                )
        except (psycopg.Error, PersistenceError) as e:
            raise_if_unreachable(e)
            raise
        return {row[0]: (bytes(row[1]) if row[1] is not None else None) for row in rows}

    def key_for(self, tenant_id: str, person_id: UUID) -> bytes | None:
        # A new key commits without waiting for its WAL flush: any event
        # sealed with it commits later, and its commit flushes the WAL up to
        # there, key included; a crash before that loses no stored event.
        try:
            with self._connect() as conn, conn.transaction():
                cursor = conn.cursor(row_factory=tuple_row)
                cursor.execute("SET LOCAL synchronous_commit TO off")
                row = cursor.execute(
                    "INSERT INTO person_keys (tenant_id, person_id, data_key)"
                    " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING data_key",
                    (tenant_id, person_id, os.urandom(32)),
                ).fetchone()
                if row is None:  # the person has one already (or a tombstone)
                    row = cursor.execute(_SELECT, (tenant_id, person_id)).fetchone()
        except (psycopg.Error, PersistenceError) as e:
            raise_if_unreachable(e)
            raise
        return bytes(row[0]) if row and row[0] is not None else None


def insert_key(cursor: Any, tenant_id: str, person_id: UUID, key: bytes) -> None:
    """Insert a new person's key with ``cursor`` (in their events'
    transaction); a person who has one already fails the transaction."""
    cursor.execute(
        "INSERT INTO person_keys (tenant_id, person_id, data_key) VALUES (%s, %s, %s)",
        (tenant_id, person_id, key),
    )


def destroy_key(cursor: Any, tenant_id: str, person_id: UUID) -> None:
    """Destroy the person's key with ``cursor`` (in the erasure's transaction),
    leaving the tombstone; a person without a key gets the tombstone alone."""
    cursor.execute(
        "INSERT INTO person_keys (tenant_id, person_id, data_key, erased_at)"
        " VALUES (%s, %s, NULL, now()) ON CONFLICT (tenant_id, person_id)"
        " DO UPDATE SET data_key = NULL, erased_at = now()",
        (tenant_id, person_id),
    )
