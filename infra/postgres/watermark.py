"""The read models' progress as one opaque token: what cached answers are
keyed by, so that any change of the rows behind them makes a new key.
"""

from __future__ import annotations

from psycopg import sql

from infra.postgres.pool import Database

WATERMARK = """(
SELECT left(md5(string_agg(concat_ws(':', p.name, t.total, t.touched,
        s.built_at, d.letters), ',' ORDER BY p.name)), 16)
FROM unnest(%(projections)s::text[]) AS p(name)
LEFT JOIN LATERAL (
    SELECT sum(position) AS total, max(updated_at) AS touched
    FROM projection_tracking WHERE projection = p.name AND topic = %(topic)s
) t ON true
LEFT JOIN projection_shapes s ON s.projection = p.name
LEFT JOIN LATERAL (
    SELECT count(*) AS letters FROM projection_dead_letters
    WHERE projection = p.name
) d ON true
)"""
"""Scalar subquery: the projections' progress as an opaque 16-hex token.

It changes when a projection applies an event (sum of tracked positions and
latest update), is rebuilt (``built_at``) or has parked events replayed (dead
letter count). Parameters ``projections`` (names) and ``topic``. Views embed it
in their own statement to report the ``as_of`` their rows were read at.
"""


class ProgressWatermark:
    """Reads :data:`WATERMARK` for a set of projections on one topic."""

    def __init__(self, database: Database, topic: str) -> None:
        self._db = database
        self._topic = topic

    def read(self, projections: tuple[str, ...]) -> str:
        """The projections' progress now (changes whenever their rows may)."""
        with self._db.connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT {}").format(sql.SQL(WATERMARK)),
                {"projections": list(projections), "topic": self._topic},
            ).fetchone()
        return str(row[0]) if row else ""
