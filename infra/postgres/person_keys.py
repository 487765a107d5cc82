"""The per-person data keys in Postgres (table ``person_keys``).

Keys are stored wrapped (:mod:`infra.erasure.wrapping`: ``data_key`` the
wrapped bytes, ``wrapping_key_id`` the wrapping key's id; NULL: a key stored
in the clear before wrapping existed, which :func:`rewrap` wraps). A row
with ``data_key`` NULL and ``erased_at`` set is the tombstone of an
erasure: :meth:`PostgresPersonKeys.key_for` never makes that key again. The
erasure itself destroys the key in the transaction of its event
(:func:`destroy_key`, called by the identity side records).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError
from psycopg.rows import tuple_row

from infra.erasure.wrapping import KeyWrapping, StoredKey
from infra.postgres.errors import raise_if_unreachable

_SELECT = (
    "SELECT data_key, wrapping_key_id FROM person_keys"
    " WHERE tenant_id = %s AND person_id = %s"
)

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


class PostgresPersonKeys:
    """:class:`~infra.erasure.keys.PersonKeys` over ``person_keys``.

    Args:
        connect: Gives a pooled connection (the event store's or ours).
        wrapping: Wraps the keys stored and unwraps the keys read.
    """

    def __init__(self, connect: Connect, wrapping: KeyWrapping) -> None:
        self._connect = connect
        self._wrapping = wrapping
        self._new = threading.local()

    def over(self, connect: Connect) -> PostgresPersonKeys:
        """The same keys read through ``connect`` (another process's)."""
        return PostgresPersonKeys(connect, self._wrapping)

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

    def take_new(self) -> list[tuple[str, UUID, StoredKey]]:
        """The keys :meth:`new_key` made on this thread since the last call,
        as they are stored (wrapped)."""
        pending: dict[tuple[str, UUID], bytes] = getattr(self._new, "keys", None) or {}
        self._new.keys = {}
        wrap = self._wrapping.wrap
        return [(t, p, wrap(t, p, key)) for (t, p), key in pending.items()]

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
                        "SELECT person_id, data_key, wrapping_key_id FROM person_keys"
                        " WHERE tenant_id = %s AND person_id = ANY(%s)",
                        (tenant_id, list(person_ids)),
                    )
                    .fetchall()
                )
        except (psycopg.Error, PersistenceError) as e:
            raise_if_unreachable(e)
            raise
        return {row[0]: self._open(tenant_id, row[0], row[1], row[2]) for row in rows}

    def _open(
        self, tenant_id: str, person_id: UUID, data: Any, wrapping_key_id: str | None
    ) -> bytes | None:
        if data is None:
            return None
        stored = StoredKey(bytes(data), wrapping_key_id)
        return self._wrapping.unwrap(tenant_id, person_id, stored)

    def key_for(self, tenant_id: str, person_id: UUID) -> bytes | None:
        # A new key commits without waiting for its WAL flush: any event
        # sealed with it commits later, and its commit flushes the WAL up to
        # there, key included; a crash before that loses no stored event.
        try:
            with self._connect() as conn, conn.transaction():
                cursor = conn.cursor(row_factory=tuple_row)
                cursor.execute("SET LOCAL synchronous_commit TO off")
                key = os.urandom(32)
                stored = self._wrapping.wrap(tenant_id, person_id, key)
                inserted = cursor.execute(
                    "INSERT INTO person_keys"
                    " (tenant_id, person_id, data_key, wrapping_key_id)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                    (tenant_id, person_id, stored.data, stored.wrapping_key_id),
                ).fetchone()
                if inserted is not None:
                    return key
                # the person has one already (or a tombstone)
                row = cursor.execute(_SELECT, (tenant_id, person_id)).fetchone()
        except (psycopg.Error, PersistenceError) as e:
            raise_if_unreachable(e)
            raise
        return self._open(tenant_id, person_id, *row) if row else None


def insert_keys_statement(count: int) -> str:
    """Insert ``count`` new persons' keys as stored (parameters: see
    :func:`key_parameters`); a person who has one already fails it."""
    rows = ", ".join(["(%s, %s, %s, %s)"] * count)
    return (
        "INSERT INTO person_keys (tenant_id, person_id, data_key, wrapping_key_id)"  # noqa: S608 (placeholders only)
        f" VALUES {rows}"
    )


def key_parameters(keys: Sequence[tuple[str, UUID, StoredKey]]) -> list[Any]:
    """The parameters of :func:`insert_keys_statement` for ``keys``."""
    return [
        value
        for tenant_id, person_id, key in keys
        for value in (tenant_id, person_id, key.data, key.wrapping_key_id)
    ]


def insert_key(cursor: Any, tenant_id: str, person_id: UUID, key: StoredKey) -> None:
    """Insert a new person's key as stored (:meth:`PostgresPersonKeys.take_new`)
    with ``cursor`` (in their events' transaction); a person who has one
    already fails the transaction."""
    cursor.execute(
        insert_keys_statement(1),
        key_parameters([(tenant_id, person_id, key)]),
        prepare=False,  # may be queued in a pipeline behind a failing statement
    )


def destroy_key(cursor: Any, tenant_id: str, person_id: UUID) -> None:
    """Destroy the person's key with ``cursor`` (in the erasure's transaction),
    leaving the tombstone; a person without a key gets the tombstone alone."""
    cursor.execute(
        "INSERT INTO person_keys (tenant_id, person_id, data_key, erased_at)"
        " VALUES (%s, %s, NULL, now()) ON CONFLICT (tenant_id, person_id)"
        " DO UPDATE SET data_key = NULL, wrapping_key_id = NULL, erased_at = now()",
        (tenant_id, person_id),
    )


def rewrap(
    connect: Connect,
    wrapping: KeyWrapping,
    *,
    tenant_id: str | None = None,
    batch: int = 500,
) -> int:
    """Wrap with the current wrapping key every stored key (of ``tenant_id``,
    or of every tenant) that is in the clear or wrapped with an older
    configured key, ``batch`` rows a transaction; the number of keys
    rewrapped. Keys wrapped with a key that is not configured are left as
    they are (:func:`wrapping_census` shows them); rows an erasure is
    destroying meanwhile are skipped (locked) or left destroyed.

    Raises:
        WrappingKeyError: a wrapped key does not open (it was altered).
    """
    current = wrapping.current
    if current is None:
        return 0
    older = [key_id for key_id in wrapping.key_ids if key_id != current]
    done = 0
    while True:
        with connect() as conn, conn.transaction():
            cursor = conn.cursor(row_factory=tuple_row)
            rows = cursor.execute(
                "SELECT tenant_id, person_id, data_key, wrapping_key_id"
                " FROM person_keys WHERE data_key IS NOT NULL"
                " AND (wrapping_key_id IS NULL OR wrapping_key_id = ANY(%s))"
                " AND (%s::text IS NULL OR tenant_id = %s)"
                " LIMIT %s FOR UPDATE SKIP LOCKED",
                (older, tenant_id, tenant_id, batch),
            ).fetchall()
            for tenant, person, data, key_id in rows:
                key = wrapping.unwrap(tenant, person, StoredKey(bytes(data), key_id))
                stored = wrapping.wrap(tenant, person, key)
                cursor.execute(
                    "UPDATE person_keys SET data_key = %s, wrapping_key_id = %s"
                    " WHERE tenant_id = %s AND person_id = %s",
                    (stored.data, stored.wrapping_key_id, tenant, person),
                )
        done += len(rows)
        if len(rows) < batch:
            return done


def wrapping_census(connect: Connect) -> dict[str | None, int]:
    """Stored (not destroyed) keys by wrapping key id (``None``: in the clear)."""
    with connect() as conn:
        rows = (
            conn.cursor(row_factory=tuple_row)
            .execute(
                "SELECT wrapping_key_id, count(*) FROM person_keys"
                " WHERE data_key IS NOT NULL GROUP BY 1 ORDER BY 1 NULLS FIRST"
            )
            .fetchall()
        )
    return {row[0]: row[1] for row in rows}
