"""A projection folded in memory, event by event, as a rebuild does it.

:class:`MemoryFold` applies events to :class:`MemoryRows` through a journal
that undoes one event's changes when it raises: the in-memory twin of the
savepoint the live runner takes, so a dead-lettered event leaves no half
effect here either. After each event the rows it touched are checked the way
Postgres would (``NOT NULL`` columns, ``jsonb`` values that must serialize;
JSON values are stored as Postgres returns them), so the fold parks the same
events the live runner would and the bulk load cannot fail on them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from psycopg.types.json import Jsonb

from infra.postgres import dead_letters
from infra.postgres.dead_letters import HALT, DeadLetter, Origin
from projections.envelope import EventEnvelope
from projections.ports import TableProjection
from projections.rows import Key, MemoryRows, Row, Table


class FoldHaltedError(Exception):
    """A ``halt`` projection failed on an event during a rebuild."""


def _snapshot(row: Row | None) -> Row | None:
    if row is None:
        return None
    return {
        k: copy.deepcopy(v) if isinstance(v, list | dict) else v for k, v in row.items()
    }


class _Journal:
    """:class:`Rows` over :class:`MemoryRows` that can undo the current event."""

    def __init__(self, memory: MemoryRows) -> None:
        self.memory = memory
        self._undo: dict[tuple[str, Key], Row | None] = {}

    def _table(self, name: str) -> Table:
        try:
            return self.memory.tables[name]
        except KeyError:
            raise KeyError(f"undeclared table {name!r}") from None

    def _remember(self, table: str, key: Key) -> None:
        entry = (table, tuple(key))
        if entry not in self._undo:
            self._undo[entry] = _snapshot(self.memory.data[table].get(entry[1]))

    def begin(self) -> None:
        self._undo.clear()

    def rollback(self) -> None:
        for (table, key), row in self._undo.items():
            if row is None:
                self.memory.data[table].pop(key, None)
            else:
                self.memory.data[table][key] = row

    def settle(self) -> None:
        """Refuse what Postgres would refuse; store JSON as Postgres returns it."""
        for table, key in self._undo:
            row = self.memory.data[table].get(key)
            if row is None:
                continue
            for column in self.memory.tables[table].columns:
                value = row.get(column.name)
                if value is None and not column.nullable:
                    raise ValueError(
                        f"null value in column {column.name!r} of {table!r}"
                    )
                if value is not None and column.type == "jsonb":
                    row[column.name] = json.loads(json.dumps(value))
                elif isinstance(value, tuple):
                    row[column.name] = list(value)

    def get(self, table: str, key: Key) -> Row | None:
        return self.memory.get(table, key)

    def find(self, table: str, where: Row) -> list[Row]:
        return self.memory.find(table, where)

    def insert(self, table: str, row: Row) -> None:
        self._remember(table, self._table(table).key_of(row))
        self.memory.insert(table, row)

    def upsert(self, table: str, row: Row) -> None:
        self._remember(table, self._table(table).key_of(row))
        self.memory.upsert(table, row)

    def update(self, table: str, key: Key, changes: Row) -> bool:
        self._table(table)
        self._remember(table, key)
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
        dead = dead_letters.letter(self.projection.name, event, error, Origin())
        if self._halts:
            raise FoldHaltedError(
                f"{self.projection.name} halts on event {event.id}"
                f" ({event.type} at {event.position}): {dead.error}"
            )
        self.parked.append(dead)
        self.waiting.add(event.subject)

    def loadable(self, table: Table) -> Iterator[list[Any]]:
        """Rows of ``table`` as COPY values, in column order."""
        jsonb = {c.name for c in table.columns if c.type == "jsonb"}
        for row in self.memory.rows(table.name):
            yield [
                Jsonb(row[c]) if c in jsonb and row[c] is not None else row[c]
                for c in table.column_names
            ]
