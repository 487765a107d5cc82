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
- ``idle_seconds``: how long ago the projection last moved (applied or
  parked an event in any partition; ``None``: never).
- ``stalled``: behind (``lag_events`` > 0) while the oldest missing event has
  waited, and the projection has not moved, for over the stall threshold
  (``ASSUREHUB_PROJECTION_STALL_SECONDS``): it is not catching up by itself.
- ``halt``: why it stopped, when a record could be neither applied nor
  parked (:mod:`infra.postgres.projection_halts`), or when a ``halt``-policy
  projection retries an event that fails.
- ``state``: ``halted``, ``rebuild needed``, ``stalled`` or ``ok``, the
  first that holds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

from psycopg import sql

from infra.eventstore.store import EVENTS_TABLE, LibraryEventStore
from infra.postgres.pool import Connection, Database
from infra.postgres.projection_halts import halted_projections
from infra.postgres.projection_schemas import stored_fingerprint
from projections.ports import TableProjection
from projections.rows import shape_fingerprint


def is_stalled(
    lag_events: int, lag_seconds: float, idle_seconds: float | None, after: float
) -> bool:
    """Whether a projection is behind and has not moved for over ``after``
    seconds (the oldest event it lacks waited that long, and so did it)."""
    if lag_events <= 0 or lag_seconds <= after:
        return False
    return idle_seconds is None or idle_seconds > after


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
    """Events a ``halt``-policy projection retries (dead letters ``halted``)."""
    shape: str | None
    """Fingerprint the tables were built with (``None``: never built)."""
    expected_shape: str
    last_applied_at: datetime | None
    idle_seconds: float | None = None
    stalled: bool = False
    halt: str | None = None
    """Why the projection is halted (``None``: it is not)."""

    @property
    def needs_rebuild(self) -> bool:
        """Whether the tables do not fit the code (the runner waits)."""
        return self.shape != self.expected_shape

    @property
    def state(self) -> str:
        """``halted``, ``rebuild needed``, ``stalled`` or ``ok``."""
        if self.halt is not None:
            return "halted"
        if self.needs_rebuild:
            return "rebuild needed"
        return "stalled" if self.stalled else "ok"

    def as_json(self) -> dict[str, Any]:
        """A JSON object of every field, with ``needs_rebuild`` and ``state``."""
        value = asdict(self)
        value["positions"] = {str(p): v for p, v in self.positions.items()}
        at = self.last_applied_at
        value["last_applied_at"] = at.isoformat() if at else None
        value["needs_rebuild"] = self.needs_rebuild
        value["state"] = self.state
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


@dataclass(frozen=True)
class _Common:
    """What every projection's status is measured against, read once."""

    head: int
    relayed: int
    heads: dict[int, int]
    halts: dict[str, str]
    stall_seconds: float


def _progress(
    conn: Connection, name: str, topic: str
) -> tuple[dict[int, int], datetime | None, float | None]:
    """Tracked positions on ``topic``, when the projection last moved, and
    how many seconds ago that was."""
    tracked = _pairs(
        conn,
        "SELECT partition, position FROM projection_tracking"
        " WHERE projection = %s AND topic = %s ORDER BY partition",
        (name, topic),
    )
    last = conn.execute(
        "SELECT max(updated_at), extract(epoch FROM now() - max(updated_at))"
        " FROM projection_tracking WHERE projection = %s",
        (name,),
    ).fetchone()
    if last is None or last[0] is None:
        return tracked, None, None
    return tracked, last[0], max(0.0, float(last[1]))


def _one(
    conn: Connection,
    store: LibraryEventStore,
    topic: str,
    projection: TableProjection,
    common: _Common,
) -> ProjectionStatus:
    name = projection.name
    tracked, last, idle = _progress(conn, name, topic)
    letters = _pairs(
        conn,
        "SELECT state, count(*) FROM projection_dead_letters"
        " WHERE projection = %s GROUP BY state",
        (name,),
    )
    reached = _reached(tracked, common.heads, common.relayed)
    lag = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE notification_id > %s").format(
            sql.Identifier(EVENTS_TABLE)
        ),
        (reached,),
    ).fetchone()
    lag_events = int(lag[0]) if lag else 0
    lag_seconds = _age_of_next(store, reached)
    return ProjectionStatus(
        projection=name,
        topic=topic,
        positions=tracked,
        head=common.head,
        relayed=common.relayed,
        reached=reached,
        lag_events=lag_events,
        lag_seconds=lag_seconds,
        parked=int(letters.get("parked", 0)),
        halted=int(letters.get("halted", 0)),
        shape=stored_fingerprint(conn, name),
        expected_shape=shape_fingerprint(projection.tables),
        last_applied_at=last,
        idle_seconds=idle,
        stalled=is_stalled(lag_events, lag_seconds, idle, common.stall_seconds),
        halt=common.halts.get(name),
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
    stall_seconds: float = 120.0,
) -> list[ProjectionStatus]:
    """The status of each of ``projections`` on ``topic``; a projection
    behind that has not moved for ``stall_seconds`` is ``stalled``."""
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
        common = _Common(head, relayed, heads, halted_projections(conn), stall_seconds)
        return [_one(conn, store, topic, p, common) for p in projections]
