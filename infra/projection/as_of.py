"""A read model's rows as they were: the live projection folded in memory
over one aggregate's events (and those of its related aggregates) up to a
version or a moment.

The rows come from :class:`~infra.projection.memory_fold.MemoryFold`
applying the projection the live runner applies, so an as-of answer is the
live read model's own code over fewer events, never a second view.

Which events make "as of":

- ``AtVersion(n)``: the aggregate's events up to version ``n``, and the
  related aggregates' events recorded before its version ``n + 1`` (all of
  them while ``n`` is the newest version): what the live read model showed
  for as long as the aggregate stayed at version ``n``.
- ``AtTime(t)``: every event of the aggregate and its related aggregates
  recorded at or before ``t``.

Snapshots: folding ten thousand events takes far longer than an answer may,
so a fold stores the rows every :data:`FOLD_INTERVAL` versions it passes (in
the event store's snapshot table, under a key derived from the projection
and the aggregate), and a later fold starts from the newest one at or below
its version; as of a time, at or below the version in force then (the
aggregate's newest event recorded by then). One statement reads it all
(:mod:`infra.eventstore.fold_reads`). A fold snapshot is derived data like an
aggregate's: it is stamped with a fingerprint of the projection's code and
tables and ignored when that changed, it names the related aggregates folded
into it and is ignored when a related event at or below its position is
missing from it (or, as of a time, was recorded after that time), and failing
to store one never fails an answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.utils import get_topic

from infra.eventstore.fold_reads import FoldQuery
from infra.eventstore.snapshots import code_fingerprint
from infra.eventstore.store import LibraryEventStore
from infra.postgres.errors import is_unreachable
from infra.projection.memory_fold import MemoryFold
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.envelope import EventEnvelope
from projections.ports import TableProjection
from projections.rows import MemoryRows, Row, Table, shape_fingerprint

log = logging.getLogger(__name__)

FOLD_INTERVAL = 25
"""A fold snapshot is stored at every multiple of this many versions."""
FOLD_FORMAT = 2
"""Version of the fold snapshot layout."""
_NAMESPACE = UUID("5d0f9a5e-2b4f-4c61-9a43-7f0c2e8b1d36")


@dataclass(frozen=True)
class AtVersion:
    """As the aggregate's version ``version`` left it."""

    version: int


@dataclass(frozen=True)
class AtTime:
    """As everything recorded at or before ``time`` left it."""

    time: datetime


Target = AtVersion | AtTime


@dataclass(frozen=True)
class Moment:
    """What an as-of fold reflects.

    Attributes:
        version: The aggregate's version.
        position: Global position of the newest event folded.
        recorded_at: When the aggregate's version ``version`` was recorded.
    """

    version: int
    position: int
    recorded_at: datetime


@dataclass(frozen=True)
class Folded:
    """An as-of fold: the projection's rows and the moment they reflect."""

    rows: MemoryRows
    moment: Moment
    newest_version: int


class VersionNotReachedError(LookupError):
    """The aggregate has not reached the requested version (yet)."""

    def __init__(self, version: int, newest: int) -> None:
        super().__init__(f"version {version} is after the newest version {newest}")
        self.version = version
        self.newest = newest


@dataclass(frozen=True)
class FoldSnapshot(Snapshot):
    """A projection's in-memory rows after one aggregate's version.

    ``state`` is ``{"format", "fingerprint", "position", "related", "rows"}``:
    the rows per table as :func:`encode_rows` writes them.
    """


_TOPIC = get_topic(FoldSnapshot)


def fold_fingerprint(projection: TableProjection) -> str:
    """A digest of the projection's code and table shapes."""
    return _fingerprint(type(projection), tuple(projection.tables))


@cache
def _fingerprint(kind: type, tables: tuple[Table, ...]) -> str:
    digest = hashlib.sha256()
    digest.update(code_fingerprint(kind).encode())
    digest.update(shape_fingerprint(tables).encode())
    return digest.hexdigest()


class AsOfFolds:
    """Folds a projection over an aggregate's events, with fold snapshots.

    Args:
        store: The event store (events, and the snapshot table).
        envelopes: Turns stored events into the envelopes projections take.
        interval: Versions between two fold snapshots.
        snapshots: Whether folds read and store fold snapshots (off: every
            fold replays from the first event, the baseline of the bench).
    """

    def __init__(
        self,
        store: LibraryEventStore,
        envelopes: StoredEnvelopes,
        interval: int = FOLD_INTERVAL,
        *,
        snapshots: bool = True,
    ) -> None:
        self._store = store
        self._envelopes = envelopes
        self._interval = interval
        self._snapshots = snapshots

    def fold(
        self,
        projection: TableProjection,
        subject: UUID,
        related: Iterable[UUID],
        target: Target,
    ) -> Folded | None:
        """The rows ``projection`` held at ``target``; ``None`` when the
        aggregate did not exist then (or at all).

        Raises:
            VersionNotReachedError: ``AtVersion`` past the newest version.
            DependencyUnavailableError: Postgres cannot be reached.
        """
        if isinstance(target, AtVersion) and target.version < 1:
            return None
        fingerprint = fold_fingerprint(projection)
        # code that folds differently writes under another key: the old
        # snapshots are ignored and never block new ones at their versions
        key = uuid5(
            _NAMESPACE, f"{projection.name}:{FOLD_FORMAT}:{fingerprint}:{subject}"
        )
        at = target.time if isinstance(target, AtTime) else None
        query = FoldQuery(
            subject,
            tuple(sorted(set(related))),
            key if self._snapshots else None,
            version=target.version if isinstance(target, AtVersion) else None,
            time=at,
        )
        read = self._store.fold_read(query)
        if read.newest == 0:
            return None
        if isinstance(target, AtVersion) and target.version > read.newest:
            raise VersionNotReachedError(target.version, read.newest)
        if read.version is None:
            return None  # nothing recorded by then
        version = read.version
        others = [self._envelope(n) for n in read.related]
        start = None
        if read.snapshot is not None:
            start = self._start(
                read.snapshot, fingerprint, projection.tables, others, at
            )
            if start is None:  # unusable: from the first event
                read = self._store.fold_read(
                    replace(query, key=None, time=None, version=version)
                )
        mains = [self._envelope(n) for n in read.events]
        upto = [e for e in mains if e.aggregate_version <= version]
        if at is None:
            later = [e.position for e in mains if e.aggregate_version > version]
            extra = [e for e in others if not later or e.position < later[0]]
        else:
            extra = [e for e in others if e.time <= at]
        fold = MemoryFold(projection)
        position = 0
        folded: set[str] = set()
        if start is not None:
            _restore(fold.memory, start.rows)
            position, folded = start.position, set(start.related)
        events = sorted(
            [*upto, *(e for e in extra if e.position > position)],
            key=lambda e: e.position,
        )
        stamping = None
        if self._snapshots:
            # a snapshot holds every related event before it: none left out
            left_out = [e.position for e in others if e.position > position]
            kept = {e.position for e in extra}
            guard = min((p for p in left_out if p not in kept), default=None)
            stamping = _Snapshotting(key, fingerprint, folded, guard)
        self._keep(self._apply(fold, events, subject, stamping))
        if upto:
            recorded = upto[-1].time
        else:
            assert start is not None  # no events after the snapshot's version
            recorded = start.recorded_at
        position = max([position, *(e.position for e in events)])
        return Folded(fold.memory, Moment(version, position, recorded), read.newest)

    def fold_all(
        self,
        projection: TableProjection,
        subjects: Iterable[UUID],
        include: Callable[[EventEnvelope], bool],
    ) -> MemoryRows:
        """The rows ``projection`` makes of the events of ``subjects`` that
        ``include`` keeps, in position order (no snapshots: for a few short
        histories, such as an organization's certificates).

        Raises:
            DependencyUnavailableError: Postgres cannot be reached.
        """
        events = [e for s in sorted(set(subjects)) for e in self._events(s)]
        fold = MemoryFold(projection)
        for event in sorted(events, key=lambda e: e.position):
            if include(event):
                fold.apply(event)
        return fold.memory

    def recorded(self, subject: UUID) -> list[EventEnvelope]:
        """Every event of ``subject`` (its history, in version order)."""
        return self._events(subject)

    def _events(self, aggregate_id: UUID) -> list[EventEnvelope]:
        return [self._envelope(n) for n in self._store.history(aggregate_id)]

    def _envelope(self, stored: Notification) -> EventEnvelope:
        return self._envelopes.envelope(stored, stored.id)

    def _apply(
        self,
        fold: MemoryFold,
        events: Sequence[EventEnvelope],
        main: UUID,
        snapshot: _Snapshotting | None,
    ) -> list[FoldSnapshot]:
        taken: list[FoldSnapshot] = []
        subject = str(main)
        for event in events:
            fold.apply(event)
            if snapshot is None:
                continue
            if event.subject != subject:
                snapshot.related.add(event.subject)
            elif event.aggregate_version % self._interval == 0 and snapshot.before(
                event
            ):
                taken.append(snapshot.take(fold, event))
        return taken

    def _start(
        self,
        found: StoredEvent,
        fingerprint: str,
        tables: Iterable[Table],
        others: list[EventEnvelope],
        at: datetime | None,
    ) -> _Start | None:
        """The fold snapshot ``found``, decoded, if it is usable: written by
        this code, holding every related event at or below its position (and,
        as of a time ``at``, none recorded after it)."""
        try:
            state = self._snapshot_state(found)
            if state.get("format") != FOLD_FORMAT:
                return None
            if state.get("fingerprint") != fingerprint:
                return None
            position = int(state["position"])
            related = frozenset(str(r) for r in state["related"])
            for e in others:
                if e.position > position:
                    continue
                if e.subject not in related:
                    return None  # folded before a related event reached the read model
                if at is not None and e.time > at:
                    return None  # holds a related event recorded after the time
            return _Start(
                version=found.originator_version,
                position=position,
                rows=decode_rows(tables, state["rows"]),
                recorded_at=datetime.fromisoformat(str(state["recorded_at"])),
                related=related,
            )
        except (KeyError, TypeError, ValueError) as e:
            log.warning(
                "fold snapshot ignored, folding from the first event",
                extra={"key": str(found.originator_id), "error": repr(e)},
            )
            return None

    def _snapshot_state(self, found: StoredEvent) -> dict[str, Any]:
        """The ``state`` of a stored :class:`FoldSnapshot`: its JSON read
        plainly (what :func:`encode_rows` wrote holds only plain values), or
        through the store's mapper when the bytes are not plain JSON (a
        cipher or a compressor).

        Raises:
            ValueError: not a fold snapshot.
        """
        if found.topic != _TOPIC:
            raise ValueError(f"not a fold snapshot: {found.topic!r}")
        try:
            state = json.loads(found.state)["state"]
        except (ValueError, KeyError, TypeError):
            snapshot = self._store.decode_snapshot(found)
            state = snapshot.state  # type: ignore[attr-defined]
        if not isinstance(state, dict):
            raise ValueError("fold snapshot state is no object")
        return state

    def _keep(self, taken: list[FoldSnapshot]) -> None:
        try:
            self._store.put_snapshots(taken)
        except Exception as e:  # derived data: log, never fail the answer
            if is_unreachable(e):
                raise
            log.warning("fold snapshot not stored", extra={"error": repr(e)})


@dataclass(frozen=True)
class _Start:
    """A usable fold snapshot, decoded."""

    version: int
    position: int
    rows: dict[str, list[Row]]
    recorded_at: datetime
    related: frozenset[str]


@dataclass
class _Snapshotting:
    """What fold snapshots taken on the way are stamped with."""

    key: UUID
    fingerprint: str
    related: set[str]
    guard: int | None
    """Position of the first related event left out of the fold: no
    snapshot is taken after it."""

    def before(self, event: EventEnvelope) -> bool:
        """Whether a snapshot after ``event`` holds every related event
        before it."""
        return self.guard is None or event.position < self.guard

    def take(self, fold: MemoryFold, event: EventEnvelope) -> FoldSnapshot:
        rows = encode_rows(fold.memory)
        state: dict[str, Any] = {
            "format": FOLD_FORMAT,
            "fingerprint": self.fingerprint,
            "position": event.position,
            "recorded_at": event.time.isoformat(),
            "related": sorted(self.related),
            "rows": rows,
        }
        return FoldSnapshot(
            originator_id=self.key,
            originator_version=event.aggregate_version,
            timestamp=FoldSnapshot.create_timestamp(),
            topic=get_topic(FoldSnapshot),
            state=state,
        )


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return value


def encode_rows(memory: MemoryRows) -> dict[str, Any]:
    """The rows of every table as JSON: per table its column names and one
    list of values per row (UUIDs, dates and times as text)."""
    encoded: dict[str, Any] = {}
    for name, table in memory.tables.items():
        names = table.column_names
        encoded[name] = {
            "columns": list(names),
            "rows": [[_plain(row.get(c)) for c in names] for row in memory.rows(name)],
        }
    return encoded


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "uuid": UUID,
    "date": date.fromisoformat,
    "timestamptz": datetime.fromisoformat,
}


def _remembering(decoder: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``decoder`` decoding each text once (a snapshot repeats its ids and
    times on many rows); the values are immutable, so sharing them is safe."""
    seen: dict[Any, Any] = {}

    def decode(text: Any) -> Any:
        value = seen.get(text)
        if value is None:
            value = seen[text] = decoder(text)
        return value

    return decode


def decode_rows(tables: Iterable[Table], rows: dict[str, Any]) -> dict[str, list[Row]]:
    """The rows :func:`encode_rows` encoded, typed by their columns.

    Raises:
        ValueError: the columns are not the table's (its shape changed).
    """
    decoded: dict[str, list[Row]] = {}
    decoders = {name: _remembering(d) for name, d in _DECODERS.items()}
    for table in tables:
        encoded = rows[table.name]
        names = table.column_names
        if list(encoded["columns"]) != list(names):
            raise ValueError(f"fold snapshot of {table.name!r} has other columns")
        typed = [
            (c.name, decoder)
            for c in table.columns
            if not c.type.endswith("[]")
            and (decoder := decoders.get(c.type.split()[0])) is not None
        ]
        width = len(names)
        items: list[Row] = []
        for values in encoded["rows"]:
            if len(values) != width:
                raise ValueError(f"fold snapshot of {table.name!r}: a short row")
            row = dict(zip(names, values, strict=True))
            for name, decoder in typed:
                value = row[name]
                if value is not None:
                    row[name] = decoder(value)
            items.append(row)
        decoded[table.name] = items
    return decoded


def _restore(memory: MemoryRows, rows: dict[str, list[Row]]) -> None:
    """Put decoded rows (every column, in order) into fresh ``memory``."""
    for table, items in rows.items():
        stored = memory.data[table]
        key_of = memory.tables[table].key_of
        for row in items:
            stored[key_of(row)] = row
