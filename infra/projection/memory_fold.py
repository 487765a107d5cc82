"""A projection folded in memory, event by event, as a rebuild does it.

:class:`MemoryFold` applies events to :class:`MemoryRows` through a journal
that undoes one event's changes when it raises: the in-memory twin of the
savepoint the live runner takes, so a dead-lettered event leaves no half
effect here either. After each event the rows it touched are checked the way
Postgres would (``NOT NULL`` columns, ``jsonb`` values that must serialize,
text that holds no NUL and no lone surrogate; JSON values are stored as
Postgres returns them), so the fold parks the same
events the live runner would and the bulk load cannot fail on them. Only the
columns an event wrote are checked (the others were checked when written),
and the journal keeps shallow copies of the rows an event touches: that is
what makes the fold cheap enough for a million events, and it holds because
rows are changed only by replacing column values (never a list or dict in
place).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from operator import itemgetter
from typing import Any, NoReturn
from uuid import UUID

from psycopg.types.json import Jsonb

from infra.postgres import dead_letters
from infra.postgres.dead_letters import HALT, DeadLetter
from infra.projection.parking import stored_letter
from projections.envelope import EventEnvelope
from projections.ports import TableProjection
from projections.rows import Key, MemoryRows, Row, Table


class FoldHaltedError(Exception):
    """A ``halt`` projection failed on an event during a rebuild."""


def _snapshot(row: Row | None) -> Row | None:
    # Shallow: the fold changes a stored row only by replacing its values
    # (``MemoryRows`` and :meth:`_Journal.settle` never change a list or dict
    # in place), and projections never change in place what ``get`` or
    # ``find`` returned (see :class:`projections.rows.Rows`), so the values
    # seen here are still the old ones when an event is undone.
    return None if row is None else dict(row)


_JSON_SCALARS = frozenset({str, int, bool})
_PLAIN = frozenset({int, bool, float, UUID, date, datetime})
"""Values of a column that is not ``jsonb`` that need no check: they hold no
text, and the driver stores them as they are."""


def _json_as_stored(value: Any) -> bool:
    """Whether ``value`` is already what a JSON round trip would make of it
    (lists, dicts with string keys, strings, integers, booleans, nulls)."""
    kind = type(value)
    if kind in _JSON_SCALARS or value is None:
        return True
    if kind is list:
        return all(_json_as_stored(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _json_as_stored(v) for k, v in value.items())
    return False  # tuples, floats, UUIDs, dates, ...: round trip them


def _text_storable(value: str) -> bool:
    """Whether ``value`` holds no lone surrogate (NULs are checked apart)."""
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _unstorable(value: Any) -> bool:
    """Whether ``value`` (or a string nested in its lists and dicts) holds a
    NUL or a lone surrogate, which Postgres ``text`` and ``jsonb`` refuse."""
    if isinstance(value, str):
        return "\x00" in value or not _text_storable(value)
    if isinstance(value, list | tuple):
        return any(_unstorable(v) for v in value)
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    return False


def _refuse_text(column: str, table: str) -> NoReturn:
    raise ValueError(
        f"column {column!r} of {table!r}: text with U+0000 or a"
        " lone surrogate, which Postgres cannot store"
    )


class _Journal:
    """:class:`Rows` over :class:`MemoryRows` that can undo the current event.

    It also remembers which columns the event wrote on each row (``None``:
    every column, for a row it created), so that :meth:`settle` checks only
    those: the others were checked when they were written.
    """

    def __init__(self, memory: MemoryRows) -> None:
        self.memory = memory
        self._undo: dict[tuple[str, Key], Row | None] = {}
        self._written: dict[tuple[str, Key], set[str] | None] = {}
        self._checks = {
            name: {c.name: (c.nullable, c.type == "jsonb") for c in table.columns}
            for name, table in memory.tables.items()
        }

    def _table(self, name: str) -> Table:
        try:
            return self.memory.tables[name]
        except KeyError:
            raise KeyError(f"undeclared table {name!r}") from None

    def _remember(self, table: str, key: Key, columns: Iterable[str] = ()) -> None:
        entry = (table, tuple(key))
        if entry not in self._undo:
            row = self.memory.data[table].get(entry[1])
            self._undo[entry] = _snapshot(row)
            self._written[entry] = set() if row is not None else None
        elif entry[1] not in self.memory.data[table]:
            self._written[entry] = None  # deleted, then written afresh
        written = self._written[entry]
        if written is not None:
            written.update(columns)

    def begin(self) -> None:
        if self._undo:
            self._undo.clear()
            self._written.clear()

    def rollback(self) -> None:
        for (table, key), row in self._undo.items():
            if row is None:
                self.memory.data[table].pop(key, None)
            else:
                self.memory.data[table][key] = row

    def settle(self) -> None:
        """Refuse what Postgres would refuse; store JSON as Postgres returns it."""
        for (table, key), written in self._written.items():
            row = self.memory.data[table].get(key)
            if row is None:
                continue
            checks = self._checks[table]
            null = False
            for name in checks if written is None else written:
                check = checks.get(name)
                if check is None:
                    continue
                value = row.get(name)
                if value is None:
                    null = null or not check[0]
                    continue
                kind = type(value)
                if kind is str:
                    if "\x00" in value or not _text_storable(value):
                        _refuse_text(name, table)
                elif check[1]:
                    if kind not in _JSON_SCALARS:
                        if _unstorable(value):
                            _refuse_text(name, table)
                        if not _json_as_stored(value):
                            row[name] = json.loads(json.dumps(value))
                elif kind not in _PLAIN:
                    if _unstorable(value):
                        _refuse_text(name, table)
                    if isinstance(value, tuple):
                        row[name] = list(value)
            if null:
                name = next(
                    n
                    for n, (nullable, _) in checks.items()
                    if not nullable and row.get(n) is None
                )
                raise ValueError(f"null value in column {name!r} of {table!r}")

    def get(self, table: str, key: Key) -> Row | None:
        return self.memory.get(table, key)

    def find(self, table: str, where: Row) -> list[Row]:
        return self.memory.find(table, where)

    def insert(self, table: str, row: Row) -> None:
        self._remember(table, self._table(table).key_of(row), row)
        self.memory.insert(table, row)

    def upsert(self, table: str, row: Row) -> None:
        self._remember(table, self._table(table).key_of(row), row)
        self.memory.upsert(table, row)

    def update(self, table: str, key: Key, changes: Row) -> bool:
        self._table(table)
        self._remember(table, key, changes)
        return self.memory.update(table, key, changes)

    def delete(self, table: str, key: Key) -> None:
        self._table(table)
        self._remember(table, key)
        self.memory.delete(table, key)


class MemoryFold:
    """``projection``'s rows folded from events in memory, with dead letters.

    Attributes:
        parked: Events dead-lettered so far (origin unknown: from the store).
        waiting: Subjects with a parked event; their later events are parked.
        count: Events gone through.
    """

    def __init__(self, projection: TableProjection) -> None:
        self.projection = projection
        self.memory = MemoryRows(projection.tables)
        self._rows = _Journal(self.memory)
        self._halts = dead_letters.policy(projection) == HALT
        self.parked: list[DeadLetter] = []
        self.waiting: set[str] = set()
        self.count = 0

    def apply(self, event: EventEnvelope) -> None:
        """Apply one event; park it (its effects undone) if it raises."""
        self.count += 1
        if event.subject in self.waiting:
            self.park(event, self.waits(event))
            return
        self._rows.begin()
        try:
            self.projection.apply(event, self._rows)
            self._rows.settle()
        except Exception as e:
            self._rows.rollback()
            self.park(event, e)

    def waits(self, event: EventEnvelope) -> str:
        """Why ``event`` is parked unapplied."""
        return f"waits for an earlier parked event of {event.subject}"

    def park(self, event: EventEnvelope, error: BaseException | str) -> None:
        """Record ``event`` as parked (or stop, for a ``halt`` projection).

        Raises:
            FoldHaltedError: the projection's policy is ``halt``.
        """
        dead = stored_letter(self.projection.name, event, error)
        if self._halts:
            raise FoldHaltedError(
                f"{self.projection.name} halts on event {event.id}"
                f" ({event.type} at {event.position}): {dead.error}"
            )
        self.parked.append(dead)
        self.waiting.add(event.subject)

    def loadable(self, table: Table) -> Iterator[list[Any]]:
        """Rows of ``table`` as COPY values, in column order."""
        names = table.column_names
        jsonb = [i for i, c in enumerate(table.columns) if c.type == "jsonb"]
        values = itemgetter(*names) if len(names) > 1 else lambda r: (r[names[0]],)
        for row in self.memory.rows(table.name):
            copied = list(values(row))
            for i in jsonb:
                if copied[i] is not None:
                    copied[i] = Jsonb(copied[i])
            yield copied
