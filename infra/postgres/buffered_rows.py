"""A batch's :class:`projections.rows.Rows`: reads by key once, writes once.

A projection applying a batch of events mostly reads a row by its key,
changes it and writes it back, event after event of the same aggregate.
:class:`BufferedRows` wraps the batch's :class:`PostgresRows`: a row read or
written by key is kept for the rest of the batch, and writes are held and
sent at :meth:`BufferedRows.flush` (before the tracking positions, in the
same transaction), the last state of each row once, in order, many rows per
round trip. A :meth:`~BufferedRows.find` (a query by other columns) flushes
first, so it sees every change made before it.

A batch can :meth:`~BufferedRows.prefetch` the rows its events will read,
one query per table for the whole batch, instead of one query per row as
each event first asks for it; a row not prefetched is read when asked for,
as without.

What a projection reads back is what it wrote (as
:class:`projections.rows.MemoryRows` gives it, which the rebuild folds
with), and a missing column of an inserted row reads as ``None`` (the
tables have no defaults).

Failure modes: an error of the projection's own code surfaces at the event
that caused it, as unbuffered; an error of a held write (a constraint) only
surfaces at the flush, as :class:`BufferedWriteError`, without saying which
event caused it: the caller rolls the batch back and applies it again
unbuffered, where the failing event is found (and parked or halted on) as
before. Not for batches applied in savepoints: a savepoint's rollback would
not undo what is held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any
from uuid import UUID

from infra.postgres.dead_letters import is_transient
from infra.postgres.rows import PostgresRows
from projections.rows import Key, Row, Table

Slot = tuple[str, tuple[Any, ...]]


class BufferedWriteError(Exception):
    """A held write failed at the flush; the batch must be applied unbuffered."""


def _normal(key: Key) -> tuple[Any, ...]:
    return tuple(str(v) if isinstance(v, UUID) else v for v in key)


def _storable_text(value: Any) -> bool:
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _canonical_uuid(value: Any) -> bool:
    if isinstance(value, UUID):
        return True
    try:
        return isinstance(value, str) and str(UUID(value)) == value
    except ValueError:
        return False


_CANONICAL = {
    "text": _storable_text,
    "uuid": _canonical_uuid,
    "integer": lambda v: type(v) is int and -(2**31) <= v < 2**31,
    "bigint": lambda v: type(v) is int and -(2**63) <= v < 2**63,
}


def _key_checks(table: Table) -> tuple[Callable[[Any], bool], ...] | None:
    """Per key column, whether a value is what Postgres returns for it once
    normalized (so its absence from a prefetch's answer means the row is
    absent) and can be sent without an error; ``None``: a key column of a
    type not prefetched."""
    types = {c.name: c.type.split(" COLLATE ")[0] for c in table.columns}
    checks = [_CANONICAL.get(types[name]) for name in table.key]
    return None if None in checks else tuple(c for c in checks if c is not None)


def _canonical(checks: tuple[Callable[[Any], bool], ...] | None, key: Key) -> bool:
    if checks is None or len(key) != len(checks):
        return False
    return all(check(value) for check, value in zip(checks, key, strict=True))


class BufferedRows:
    """:class:`projections.rows.Rows` for one batch (see the module docstring).

    Args:
        rows: The batch's unbuffered rows (on its connection, in its
            transaction).
        tables: The projection's declared tables.
    """

    def __init__(self, rows: PostgresRows, tables: tuple[Table, ...]) -> None:
        self._rows = rows
        self._tables = {t.name: t for t in tables}
        self._checks = {t.name: _key_checks(t) for t in tables}
        self._known: dict[Slot, Row | None] = {}
        self._held: dict[Slot, tuple[str, Key, Row | None]] = {}
        """Per row, its table, key and last state (``None``: deleted)."""

    def prefetch(self, wanted: Iterable[tuple[str, Key]]) -> int:
        """Read the rows of ``wanted`` (table, key) not known yet, one query
        per table; return how many of them exist.

        Keys whose values are not of their column's type as Postgres returns
        it (a ``UUID`` column's key given in capitals, an integer as text)
        are left out: they are read when a projection asks for them.
        """
        asked: dict[str, dict[tuple[Any, ...], Key]] = {}
        for table, key in wanted:
            if not _canonical(self._checks.get(table), key):
                continue
            normal = _normal(key)
            if (table, normal) not in self._known:
                asked.setdefault(table, {})[normal] = key
        existing = 0
        for table, keys in asked.items():
            t = self._tables[table]
            found = self._rows.get_many(table, list(keys.values()))
            by_key = {_normal(t.key_of(row)): row for row in found}
            for normal in keys:
                self._known[(table, normal)] = by_key.get(normal)
            existing += len(found)
        return existing

    def known_rows(self) -> Iterator[tuple[str, Row]]:
        """Each row read or written so far in the batch, with its table."""
        for (table, _), row in self._known.items():
            if row is not None:
                yield table, row

    def _table(self, name: str, row: Row | None = None) -> Table:
        try:
            t = self._tables[name]
        except KeyError:
            raise KeyError(f"undeclared table {name!r}") from None
        if row is not None:
            unknown = set(row) - set(t.column_names)
            if unknown:
                raise KeyError(f"table {name}: undeclared columns {sorted(unknown)}")
        return t

    def _current(self, table: str, key: Key) -> Row | None:
        slot = (table, _normal(key))
        if slot not in self._known:
            self._known[slot] = self._rows.get(table, key)
        return self._known[slot]

    def _hold(self, table: str, key: Key, row: Row | None) -> None:
        slot = (table, _normal(key))
        self._known[slot] = row
        self._held.pop(slot, None)  # re-added last: the order of the writes
        self._held[slot] = (table, key, row)

    def get(self, table: str, key: Key) -> Row | None:
        self._table(table)
        row = self._current(table, key)
        return dict(row) if row is not None else None

    def insert(self, table: str, row: Row) -> None:
        t = self._table(table, row)
        key = t.key_of(row)
        if self._current(table, key) is None:
            self._hold(table, key, {c: row.get(c) for c in t.column_names})

    def upsert(self, table: str, row: Row) -> None:
        t = self._table(table, row)
        key = t.key_of(row)
        existing = self._current(table, key)
        if existing is not None:
            self._hold(table, key, {**existing, **row})
            return
        if not {c.name for c in t.columns if not c.nullable} <= row.keys():
            # Postgres refuses it (NOT NULL): let it say so at this event.
            self.flush()
            self._rows.upsert(table, row)
        self._hold(table, key, {c: row.get(c) for c in t.column_names})

    def update(self, table: str, key: Key, changes: Row) -> bool:
        self._table(table, changes)
        existing = self._current(table, key)
        if existing is None:
            return False
        if changes:
            self._hold(table, key, {**existing, **changes})
        return True

    def delete(self, table: str, key: Key) -> None:
        self._table(table)
        self._hold(table, key, None)

    def find(self, table: str, where: Row) -> list[Row]:
        self.flush()
        return self._rows.find(table, where)

    def flush(self) -> None:
        """Send every held write (the last state of each row, in order; a run
        of rows of one table in one round trip).

        Raises:
            BufferedWriteError: a write was refused (the cause is chained);
                the transaction is aborted.
        """
        held, self._held = list(self._held.values()), {}
        try:
            run: list[Row] = []
            for i, (table, key, row) in enumerate(held):
                if row is None:
                    self._rows.delete(table, key)
                    continue
                run.append(row)
                following = held[i + 1] if i + 1 < len(held) else None
                if following is None or following[0] != table or following[2] is None:
                    self._rows.upsert_many(table, run)
                    run = []
        except Exception as e:
            if is_transient(e):
                raise
            raise BufferedWriteError(str(e)) from e
