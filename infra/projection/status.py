"""How far each projection is, what it lags by, and what it needs.

Definitions (also in the README):

- ``reached``: the highest position P such that the projection has applied
  every event up to P, by the rule read-your-writes uses
  (:mod:`infra.postgres.progress`): the relay has published up to P and no
  partition is behind below P. Events not yet relayed count as not applied.
- ``lag_events``: stored events after ``reached`` (an upper bound of the
  events not applied yet: some of them may be applied in other partitions).
- ``lag_seconds``: how long ago the oldest of those events was recorded (0
  when there is none), i.e. how stale the oldest missing change is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

from psycopg import sql

from infra.eventstore.store import EVENTS_TABLE, LibraryEventStore
from infra.postgres.pool import Connection, Database
from projections.ports import TableProjection
from projections.rows import shape_fingerprint


@dataclass(frozen=True)
class ProjectionStatus:
    """One projection's progress and health."""

    projection: str
    topic: str
    positions: dict[int, int]
    """Per partition, the position of the last event applied (or parked)."""
    head: int
    """Position of the newest stored event."""
    relayed: int
    """Last position the relay published."""
    reached: int
    lag_events: int
    lag_seconds: float
    parked: int
    halted: int
    shape: str | None
    """Fingerprint the tables were built with (``None``: never built)."""
    expected_shape: str
    last_applied_at: datetime | None

    @property
    def needs_rebuild(self) -> bool:
        """Whether the tables do not fit the code (the runner waits)."""
        return self.shape != self.expected_shape

    def as_json(self) -> dict[str, Any]:
        """A JSON object of every field, with ``needs_rebuild``."""
        value = asdict(self)
        value["positions"] = {str(p): v for p, v in self.positions.items()}
        at = self.last_applied_at
        value["last_applied_at"] = at.isoformat() if at else None
        value["needs_rebuild"] = self.needs_rebuild
        return value


def _reached(tracked: dict[int, int], heads: dict[int, int], relayed: int) -> int:
    partitions = set(tracked) | set(heads)
    lowest = min((tracked.get(p, 0) for p in partitions), default=0)
    reached = max(relayed, lowest)
    for p in partitions:
        if tracked.get(p, 0) < heads.get(p, 0):
            reached = min(reached, tracked.get(p, 0))
    return reached


def _pairs(conn: Connection, query: str, params: tuple[Any, ...]) -> dict[Any, Any]:
    return {r[0]: r[1] for r in conn.execute(query.encode(), params).fetchall()}


def _one(
    conn: Connection,
    store: LibraryEventStore,
    topic: str,
    projection: TableProjection,
    common: tuple[int, int, dict[int, int]],
) -> ProjectionStatus:
    head, relayed, heads = common
    name = projection.name
    tracked = _pairs(
        conn,
        "SELECT partition, position FROM projection_tracking"
        " WHERE projection = %s AND topic = %s ORDER BY partition",
        (name, topic),
    )
    last = conn.execute(
        "SELECT max(updated_at) FROM projection_tracking WHERE projection = %s",
        (name,),
    ).fetchone()
    letters = _pairs(
        conn,
        "SELECT state, count(*) FROM projection_dead_letters"
        " WHERE projection = %s GROUP BY state",
        (name,),
    )
    shape = conn.execute(
        "SELECT fingerprint FROM projection_shapes WHERE projection = %s", (name,)
    ).fetchone()
    reached = _reached(tracked, heads, relayed)
    lag = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE notification_id > %s").format(
            sql.Identifier(EVENTS_TABLE)
        ),
        (reached,),
    ).fetchone()
    return ProjectionStatus(
        projection=name,
        topic=topic,
        positions=tracked,
        head=head,
        relayed=relayed,
        reached=reached,
        lag_events=int(lag[0]) if lag else 0,
        lag_seconds=_age_of_next(store, reached),
        parked=int(letters.get("parked", 0)),
        halted=int(letters.get("halted", 0)),
        shape=shape[0] if shape else None,
        expected_shape=shape_fingerprint(projection.tables),
        last_applied_at=last[0] if last else None,
    )


def _age_of_next(store: LibraryEventStore, after: int) -> float:
    """Seconds since the first stored event after ``after`` was recorded."""
    page = store.read_after(after, 1)
    if not page:
        return 0.0
    recorded: datetime = cast(Any, store.decode(page[0])).timestamp
    return max(0.0, (datetime.now(UTC) - recorded).total_seconds())


def projection_status(
    database: Database,
    store: LibraryEventStore,
    topic: str,
    projections: tuple[TableProjection, ...],
) -> list[ProjectionStatus]:
    """The status of each of ``projections`` on ``topic``."""
    with database.connection() as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT (SELECT COALESCE(max(notification_id), 0) FROM {}),"
                " (SELECT position FROM relay_progress WHERE topic = %s)"
            ).format(sql.Identifier(EVENTS_TABLE)),
            (topic,),
        ).fetchone()
        head, relayed = (int(row[0]), int(row[1] or 0)) if row else (0, 0)
        heads = _pairs(
            conn,
            "SELECT partition, position FROM relay_partition_heads WHERE topic = %s",
            (topic,),
        )
        return [
            _one(conn, store, topic, p, (head, relayed, heads)) for p in projections
        ]
