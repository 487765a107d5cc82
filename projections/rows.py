"""Read-model tables as projections declare them, and the one port they write.

A projection that keeps table rows declares its :class:`Table` shapes and
changes rows only through :class:`Rows`. One shape, two backends: Postgres
(live, inside the runner's transaction) and :class:`MemoryRows` (unit tests,
and the rebuild, which folds the event store in memory and bulk-loads the
result into fresh tables). Because the logic never writes SQL, a rebuild and
live consumption produce the same rows.

Rows are plain dicts of column name to value: ``str``, ``int``, ``bool``,
``UUID``, ``date``, ``datetime``, ``None``, and lists/dicts for ``jsonb``
columns. Every table's key starts with ``tenant_id``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Row = dict[str, Any]
Key = tuple[Any, ...]


@dataclass(frozen=True)
class Column:
    """One column: its name and Postgres type (``text``, ``uuid``, ``integer``,
    ``bigint``, ``boolean``, ``date``, ``timestamptz``, ``jsonb``, ``text[]``;
    ``text COLLATE "C"`` for sort keys)."""

    name: str
    type: str
    nullable: bool = True


def columns(spec: str) -> tuple[Column, ...]:
    """Columns from ``"name type, ..."``; a type ending in ``?`` is nullable.

    ``columns("id uuid, note text?")`` declares ``id`` NOT NULL and ``note``
    nullable.
    """
    declared = []
    for part in spec.split(","):
        name, kind = part.split(maxsplit=1)
        declared.append(Column(name, kind.rstrip("?"), nullable=kind.endswith("?")))
    return tuple(declared)


@dataclass(frozen=True)
class Table:
    """One read-model table.

    Attributes:
        name: Unqualified name; the table lives in its projection's schema.
        columns: Every column, in order.
        key: Primary-key columns, starting with ``tenant_id``.
        indexes: Extra indexes, each a tuple of column names (or expressions).
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = field(default=())

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate column")
        if not self.key or self.key[0] != "tenant_id":
            raise ValueError(f"table {self.name}: key must start with tenant_id")
        missing = set(self.key) - set(names)
        if missing:
            raise ValueError(f"table {self.name}: key columns {missing} not declared")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def key_of(self, row: Mapping[str, Any]) -> Key:
        """The key of ``row``."""
        return tuple(row[name] for name in self.key)


def shape_fingerprint(tables: tuple[Table, ...]) -> str:
    """A digest of the tables' shape; a change means the projection needs a
    rebuild into fresh tables."""
    text = repr(sorted((t.name, t.columns, t.key, t.indexes) for t in tables))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Rows(Protocol):
    """Write port of a projection's tables, bound to one transaction.

    Keys are tuples in the order of :attr:`Table.key`. Within one aggregate
    events arrive in order and exactly once (the runner skips redeliveries),
    so methods need no version guards; across aggregates there is no order,
    so a projection must tolerate a row it refers to not existing yet.
    """

    def get(self, table: str, key: Key) -> Row | None:
        """The row with ``key``, or ``None``."""
        ...

    def insert(self, table: str, row: Row) -> None:
        """Insert ``row`` (every column given); nothing if the key exists."""
        ...

    def upsert(self, table: str, row: Row) -> None:
        """Insert ``row``, or set the columns it gives on the existing row."""
        ...

    def update(self, table: str, key: Key, changes: Row) -> bool:
        """Set ``changes`` on the row with ``key``; whether it existed."""
        ...

    def delete(self, table: str, key: Key) -> None:
        """Delete the row with ``key`` (nothing if absent)."""
        ...

    def find(self, table: str, where: Row) -> list[Row]:
        """Rows whose columns equal ``where`` (which must include ``tenant_id``)."""
        ...


class MemoryRows:
    """:class:`Rows` over dicts: for unit tests and for folding a rebuild."""

    def __init__(self, tables: tuple[Table, ...]) -> None:
        self.tables = {t.name: t for t in tables}
        self.data: dict[str, dict[Key, Row]] = {t.name: {} for t in tables}

    def _table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"undeclared table {name!r}") from None

    def _full(self, table: Table, row: Row) -> Row:
        unknown = set(row) - set(table.column_names)
        if unknown:
            raise KeyError(f"table {table.name}: undeclared columns {sorted(unknown)}")
        return {name: row.get(name) for name in table.column_names}

    def get(self, table: str, key: Key) -> Row | None:
        self._table(table)
        row = self.data[table].get(tuple(key))
        return dict(row) if row is not None else None

    def insert(self, table: str, row: Row) -> None:
        t = self._table(table)
        self.data[table].setdefault(t.key_of(row), self._full(t, row))

    def upsert(self, table: str, row: Row) -> None:
        t = self._table(table)
        key = t.key_of(row)
        existing = self.data[table].get(key)
        if existing is None:
            self.data[table][key] = self._full(t, row)
        else:
            self._full(t, row)
            existing.update(row)

    def update(self, table: str, key: Key, changes: Row) -> bool:
        t = self._table(table)
        row = self.data[table].get(tuple(key))
        if row is None:
            return False
        self._full(t, changes)
        row.update(changes)
        return True

    def delete(self, table: str, key: Key) -> None:
        self._table(table)
        self.data[table].pop(tuple(key), None)

    def find(self, table: str, where: Row) -> list[Row]:
        self._table(table)
        if "tenant_id" not in where:
            raise KeyError("find needs tenant_id")
        return [
            dict(row)
            for row in self.data[table].values()
            if all(row.get(k) == v for k, v in where.items())
        ]

    def rows(self, table: str) -> Iterator[Row]:
        """Every row of ``table`` (for bulk loading)."""
        yield from self.data[self._table(table).name].values()
