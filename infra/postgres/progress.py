"""Read-your-writes: has a projection applied every event up to a position?

Kafka orders events only per partition, so progress is per partition. A
projection has reached position P when the relay has published everything up
to P and, in every partition, the projection has applied at least
``min(P, newest position the relay put in that partition)``. Within one
partition positions only grow, so this never answers yes too early; it may
answer no for a moment longer than strictly needed.
"""

from __future__ import annotations

from infra.postgres.pool import Database

_REACHED = """
SELECT
    COALESCE((SELECT position FROM relay_progress WHERE topic = %(topic)s), 0)
        >= %(position)s
    AND NOT EXISTS (
        SELECT 1
        FROM relay_partition_heads h
        LEFT JOIN projection_tracking t
            ON t.projection = %(projection)s
            AND t.topic = h.topic
            AND t.partition = h.partition
        WHERE h.topic = %(topic)s
            AND COALESCE(t.position, 0) < LEAST(h.position, %(position)s)
    )
"""


class ProjectionProgress:
    """Answers "has projection X reached position P" (the read side waits)."""

    def __init__(self, database: Database, topic: str) -> None:
        self._db = database
        self._topic = topic

    def has_reached(self, projection: str, position: int) -> bool:
        """Whether ``projection`` applied every event up to ``position``."""
        with self._db.connection() as conn:
            row = conn.execute(
                _REACHED,
                {"topic": self._topic, "position": position, "projection": projection},
            ).fetchone()
        return bool(row and row[0])
