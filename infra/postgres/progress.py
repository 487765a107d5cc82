"""Read-your-writes: has a projection applied every event up to a position?

Kafka orders events only per partition, so progress is per partition. A
projection has reached position P when the relay has published everything up
to P and, in every partition, the projection has applied at least
``min(P, newest position the relay put in that partition)``. Within one
partition positions only grow, so this never answers yes too early; it may
answer no for a moment longer than strictly needed.

:meth:`ProjectionProgress.has_reached` asks about one projection;
:meth:`ProjectionProgress.snapshot` reads the relay's and every projection's
progress in one statement (one consistent snapshot), so that one poller can
answer many waiting requests (:mod:`infra.projection.progress_watcher`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infra.postgres.pool import Database

_SNAPSHOT = """
SELECT 0, NULL::text, NULL::integer, position
    FROM relay_progress WHERE topic = %(topic)s
UNION ALL
SELECT 1, NULL::text, partition, position
    FROM relay_partition_heads WHERE topic = %(topic)s
UNION ALL
SELECT 2, projection, partition, position
    FROM projection_tracking WHERE topic = %(topic)s
"""
_RELAYED, _HEAD, _APPLIED = 0, 1, 2


@dataclass(frozen=True)
class ProgressSnapshot:
    """The relay's and every projection's progress on one topic, read at once.

    Attributes:
        relayed: The position up to which the relay has published everything.
        heads: Per partition, the newest position the relay put in it.
        applied: Per (projection, partition), the last position applied.
    """

    relayed: int
    heads: Mapping[int, int]
    applied: Mapping[tuple[str, int], int]

    def reached(self, projection: str, position: int) -> bool:
        """Whether ``projection`` had applied every event up to ``position``
        when this snapshot was read (the rule of the module docstring)."""
        if self.relayed < position:
            return False
        return all(
            self.applied.get((projection, partition), 0) >= min(head, position)
            for partition, head in self.heads.items()
        )


class ProjectionProgress:
    """Answers "has projection X reached position P" (the read side waits)."""

    def __init__(self, database: Database, topic: str) -> None:
        self._db = database
        self._topic = topic

    def snapshot(self) -> ProgressSnapshot:
        """The relay's and every projection's progress, in one query."""
        relayed = 0
        heads: dict[int, int] = {}
        applied: dict[tuple[str, int], int] = {}
        with self._db.connection() as conn:
            rows = conn.execute(_SNAPSHOT, {"topic": self._topic}).fetchall()
        for kind, projection, partition, position in rows:
            if kind == _RELAYED:
                relayed = int(position)
            elif kind == _HEAD:
                heads[int(partition)] = int(position)
            else:
                applied[str(projection), int(partition)] = int(position)
        return ProgressSnapshot(relayed, heads, applied)

    def has_reached(self, projection: str, position: int) -> bool:
        """Whether ``projection`` applied every event up to ``position``."""
        return self.snapshot().reached(projection, position)
