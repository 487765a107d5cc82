"""Connection pool for our own tables (read models, relay and tracking).

The eventsourcing library keeps its own pool for the events table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import psycopg_pool
from psycopg.rows import TupleRow

from infra.postgres.errors import (
    raise_if_contended,
    raise_if_unreachable,
    raise_if_unstorable,
)
from infra.settings import Settings

Connection = psycopg.Connection[TupleRow]


class Database:
    """A lazily opened pool; errors reaching Postgres become
    :class:`DependencyUnavailableError`, a transaction aborted by a deadlock
    or serialization conflict :class:`DatabaseContentionError`, text
    parameters Postgres cannot hold :class:`UnstorableTextError` (see
    :mod:`infra.postgres.errors`)."""

    def __init__(
        self, conninfo: str, *, max_size: int = 10, timeout: float = 3.0
    ) -> None:
        self._pool: psycopg_pool.ConnectionPool[Connection] = (
            psycopg_pool.ConnectionPool(
                conninfo,
                min_size=1,
                max_size=max_size,
                open=False,
                timeout=timeout,
                kwargs={"autocommit": True, "connect_timeout": 3},
                check=psycopg_pool.ConnectionPool.check_connection,
            )
        )
        self._opened = False
        self._conninfo = conninfo

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(str(settings.database_url), max_size=settings.db_pool_size)

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled autocommit connection; use ``conn.transaction()`` to group."""
        if not self._opened:
            self._pool.open(wait=False)
            self._opened = True
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.Error, UnicodeEncodeError) as e:
            raise_if_unreachable(e)
            raise_if_contended(e)
            raise_if_unstorable(e)
            raise

    @property
    def conninfo(self) -> str:
        """Where the pool connects (for a process of its own)."""
        return self._conninfo

    def stats(self) -> dict[str, int]:
        """Connections open and in use, and requests waiting for one."""
        stats = self._pool.get_stats() if self._opened else {}
        size = stats.get("pool_size", 0)
        return {
            "open": size,
            "in_use": size - stats.get("pool_available", 0),
            "waiting": stats.get("requests_waiting", 0),
        }

    def ping(self) -> None:
        """Raise :class:`DependencyUnavailableError` unless Postgres answers."""
        with self.connection() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self._pool.close()
