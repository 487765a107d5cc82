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
from collections.abc import Iterable, Iterator, Mapping
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

    Rows returned by :meth:`get` and :meth:`find` are the caller's to read:
    to change a ``jsonb`` or array value, write a new list or dict through
    :meth:`update`, never change the returned one in place (Postgres would
    not see that, and the rebuild's in-memory fold relies on it).
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


Columns = tuple[str, ...]
"""The column names of one :meth:`MemoryRows.find` index, sorted."""


class _TableRows(dict[Key, Row]):
    """One table's rows by key, and the indexes :meth:`MemoryRows.find` built.

    An index maps the values of some columns (a tuple, in the order of its
    sorted names) to the keys of the rows holding them. Setting or popping a
    key keeps every index right, so code that writes this dict directly (the
    rebuild's undo journal restores rows so) cannot leave one stale; other
    dict mutators drop the indexes, which are rebuilt when next needed.
    :class:`MemoryRows` itself wraps in-place changes of a row in
    :meth:`unindex`/:meth:`index`. A value that cannot be hashed (a list or
    dict, for ``jsonb`` or ``text[]``) drops the index of its columns, so
    finds on them scan the table as before.

    Attributes:
        indexes: Column names to (values to keys).
        order: Key to the order in which it entered the table, so a find
            returns rows in table order whichever way it found them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.indexes: dict[Columns, dict[Key, set[Key]]] = {}
        self.order: dict[Key, int] = {}
        self._entered = 0

    def index(self, key: Key, row: Row, only: Columns | None = None) -> None:
        """Add ``row`` to every index (or to the index on ``only``)."""
        for cols in [only] if only is not None else list(self.indexes):
            if cols not in self.indexes:
                continue
            try:
                self.indexes[cols].setdefault(_values(row, cols), set()).add(key)
            except TypeError:  # unhashable
                del self.indexes[cols]

    def unindex(self, key: Key, row: Row, only: Columns | None = None) -> None:
        """Remove ``row`` from every index (or from the index on ``only``)."""
        for cols in [only] if only is not None else list(self.indexes):
            if cols not in self.indexes:
                continue
            values = _values(row, cols)
            try:
                bucket = self.indexes[cols].get(values)
            except TypeError:  # changed in place to an unhashable value
                del self.indexes[cols]
                continue
            if bucket is not None:
                bucket.discard(key)
                if not bucket:
                    del self.indexes[cols][values]

    def __setitem__(self, key: Key, row: Row) -> None:
        old = self.get(key)
        if old is None:
            self.order[key] = self._entered
            self._entered += 1
        else:
            self.unindex(key, old)
        super().__setitem__(key, row)
        self.index(key, row)

    def __delitem__(self, key: Key) -> None:
        self.unindex(key, self[key])
        del self.order[key]
        super().__delitem__(key)

    def pop(self, key: Key, *default: Any) -> Any:
        if key in self:
            row = self[key]
            del self[key]
            return row
        return super().pop(key, *default)

    def _forget(self) -> None:
        self.indexes.clear()
        self.order = {key: i for i, key in enumerate(self)}
        self._entered = len(self.order)

    def popitem(self) -> tuple[Key, Row]:
        item = super().popitem()
        self._forget()
        return item

    def clear(self) -> None:
        super().clear()
        self._forget()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._forget()

    def setdefault(self, key: Key, default: Row) -> Row:
        if key not in self:
            self[key] = default
        return self[key]

    def __ior__(self, other: Any) -> _TableRows:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Copies and pickles get their own indexes, rebuilt as items are set.
        return (type(self), (), None, None, iter(self.items()))


def _values(row: Row, cols: Columns) -> Key:
    return tuple(row.get(name) for name in cols)


class MemoryRows:
    """:class:`Rows` over dicts: for unit tests and for folding a rebuild.

    :meth:`find` looks rows up in an index of the columns it is given,
    built on the first find by those columns and kept up to date by every
    write, so a projection that finds rows per event stays linear.

    Attributes:
        tables: Declared tables by name.
        data: Each table's rows by key (a dict per table).
        examined: Rows compared with a find's conditions so far, index builds
            included: a measure of find's cost that tests can assert on.
    """

    def __init__(self, tables: tuple[Table, ...]) -> None:
        self.tables = {t.name: t for t in tables}
        self.data: dict[str, _TableRows] = {t.name: _TableRows() for t in tables}
        self.examined = 0
        self._names = {t.name: t.column_names for t in tables}
        self._known = {t.name: frozenset(t.column_names) for t in tables}

    def _table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"undeclared table {name!r}") from None

    def _declared(self, table: Table, row: Row) -> None:
        if not self._known[table.name].issuperset(row):
            unknown = set(row) - self._known[table.name]
            raise KeyError(f"table {table.name}: undeclared columns {sorted(unknown)}")

    def _full(self, table: Table, row: Row) -> Row:
        self._declared(table, row)
        return {name: row.get(name) for name in self._names[table.name]}

    def _change(self, table: str, key: Key, row: Row, changes: Row) -> None:
        """Set ``changes`` on ``row`` (stored under ``key``) and reindex it."""
        stored = self.data[table]
        touched = [
            cols for cols in stored.indexes if not changes.keys().isdisjoint(cols)
        ]
        for cols in touched:
            stored.unindex(key, row, cols)
        row.update(changes)
        for cols in touched:
            stored.index(key, row, cols)

    def get(self, table: str, key: Key) -> Row | None:
        self._table(table)
        row = self.data[table].get(tuple(key))
        return dict(row) if row is not None else None

    def insert(self, table: str, row: Row) -> None:
        t = self._table(table)
        key = t.key_of(row)
        if key not in self.data[table]:
            self.data[table][key] = self._full(t, row)

    def upsert(self, table: str, row: Row) -> None:
        t = self._table(table)
        key = t.key_of(row)
        existing = self.data[table].get(key)
        if existing is None:
            self.data[table][key] = self._full(t, row)
        else:
            self._declared(t, row)
            self._change(table, key, existing, row)

    def update(self, table: str, key: Key, changes: Row) -> bool:
        t = self._table(table)
        row = self.data[table].get(tuple(key))
        if row is None:
            return False
        self._declared(t, changes)
        self._change(table, tuple(key), row, changes)
        return True

    def delete(self, table: str, key: Key) -> None:
        self._table(table)
        self.data[table].pop(tuple(key), None)

    def find(self, table: str, where: Row) -> list[Row]:
        self._table(table)
        if "tenant_id" not in where:
            raise KeyError("find needs tenant_id")
        stored = self.data[table]
        cols = tuple(sorted(where))
        candidates: Iterable[Row] = stored.values()
        index = self._index(stored, cols)
        if index is not None:
            try:
                keys = index.get(_values(where, cols), set())
            except TypeError:  # an unhashable value: scan
                pass
            else:
                candidates = [
                    stored[k] for k in sorted(keys, key=stored.order.__getitem__)
                ]
        found = []
        for row in candidates:
            self.examined += 1
            # Rechecked so that a row changed in place (not through this
            # class) is never returned for values it no longer has.
            if all(row.get(k) == v for k, v in where.items()):
                found.append(dict(row))
        return found

    def _index(self, stored: _TableRows, cols: Columns) -> dict[Key, set[Key]] | None:
        """The index of ``stored`` on ``cols``, built if missing; ``None`` if
        a row holds an unhashable value there."""
        if cols not in stored.indexes:
            stored.indexes[cols] = {}
            for key, row in stored.items():
                self.examined += 1
                stored.index(key, row, cols)
                if cols not in stored.indexes:
                    return None
        return stored.indexes[cols]

    def rows(self, table: str) -> Iterator[Row]:
        """Every row of ``table`` (for bulk loading)."""
        yield from self.data[self._table(table).name].values()
