"""A database of its own for a test whose events must not reach the shared
test store (the session's relay and projectors would meet them)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from pydantic import PostgresDsn

from infra.bootstrap import Container, bootstrap
from infra.migrations import migrate
from infra.postgres.pool import Database
from infra.settings import Settings


@contextmanager
def scratch_database(settings: Settings) -> Iterator[Settings]:
    """``settings`` pointing at a new, empty database, dropped afterwards."""
    name = f"assurehub_scratch_{uuid.uuid4().hex[:10]}"
    admin = str(settings.database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"{admin.rsplit('/', 1)[0]}/{name}"
    try:
        yield settings.model_copy(update={"database_url": PostgresDsn(url)})
    finally:
        _drop(admin, name)


def _drop(admin: str, name: str) -> None:
    """Drop the database; ``FORCE`` ends our sessions on it, but not an
    autovacuum worker the server started there (not ours to signal), which
    ends by itself: try again for a while."""
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)
    )
    for attempt in range(50):
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(drop)
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == 49:
                raise
            time.sleep(0.2)


@contextmanager
def scratch_container(settings: Settings) -> Iterator[Container]:
    """A container on a new, migrated database of its own, dropped afterwards."""
    with scratch_database(settings) as scratch:
        database = Database.from_settings(scratch)
        try:
            migrate(scratch, database)
        finally:
            database.close()
        container = bootstrap(scratch)
        try:
            yield container
        finally:
            container.close()
