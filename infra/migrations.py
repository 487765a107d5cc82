"""Schema migrations: the library's event table, then our numbered SQL files.

Applied in order under an advisory lock, each in its own transaction, and
recorded in ``schema_migrations``; running them again is harmless.
"""

from __future__ import annotations

import logging
from importlib import resources

from infra.eventstore.store import AssureHubApplication, postgres_env
from infra.postgres.pool import Database
from infra.settings import Settings

log = logging.getLogger(__name__)

_LOCK_KEY = 0x4153_5355_5245  # "ASSURE"


def migration_files() -> list[tuple[str, str]]:
    """``(name, sql)`` of every migration, in order."""
    folder = resources.files("infra.postgres") / "migrations"
    files = [p for p in folder.iterdir() if p.name.endswith(".sql")]
    return [(p.name, p.read_text()) for p in sorted(files, key=lambda p: p.name)]


def migrate(settings: Settings, database: Database) -> list[str]:
    """Apply pending migrations; return the names applied now."""
    app = AssureHubApplication(postgres_env(settings, create_table=True))
    app.close()
    applied: list[str] = []
    with database.connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
            for name, sql in migration_files():
                if name in done:
                    continue
                with conn.transaction():
                    conn.execute(sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (name) VALUES (%s)", (name,)
                    )
                log.info("migration applied", extra={"migration": name})
                applied.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied
