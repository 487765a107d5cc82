"""The :class:`projections.rows.Rows` port over Postgres.

A :class:`PostgresRows` is bound to one connection inside the caller's
transaction (the projection runner's batch, a rebuild's catch-up, a replay).
Statements are built from the declared :class:`Table` with
``psycopg.sql.Identifier``; values always travel as parameters, and values of
``jsonb`` columns are wrapped in :class:`Jsonb`.

Each projection's tables live in the schema ``rm_<projection name>``; the read
side names them with :func:`qualified`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from infra.postgres.pool import Connection
from projections.rows import Key, Row, Table

SCHEMA_PREFIX = "rm_"


def schema_name(projection: str) -> str:
    """The schema that holds ``projection``'s tables: ``rm_<projection>``."""
    return f"{SCHEMA_PREFIX}{projection}"


def qualified(projection: str, table: str) -> sql.Identifier:
    """``"rm_<projection>"."<table>"``, for queries of the read side."""
    return sql.Identifier(schema_name(projection), table)


def _names(columns: Iterable[str]) -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, columns))


def _equal_to(
    columns: Iterable[str], nulls: frozenset[str] = frozenset()
) -> sql.Composed:
    """``a = %s AND b IS NULL …`` (``IS NULL`` for the columns in ``nulls``)."""
    return sql.SQL(" AND ").join(
        sql.SQL("{} IS NULL" if c in nulls else "{} = %s").format(sql.Identifier(c))
        for c in columns
    )


_KEY_TYPE = re.compile(r"[a-z][a-z0-9 ]*")


def _key_type(table: Table, column: str) -> str:
    """The base type of a key column (``text COLLATE "C"`` is ``text``)."""
    declared = next(c.type for c in table.columns if c.name == column)
    base = declared.split(" COLLATE ")[0]
    if not _KEY_TYPE.fullmatch(base):
        raise ValueError(f"table {table.name}: key column type {declared!r}")
    return base  # declared in code and checked above, never input


@lru_cache(maxsize=1024)
def _statement(
    kind: str,
    schema: str,
    table: Table,
    columns: tuple[str, ...],
    nulls: frozenset[str],
) -> sql.Composed:
    """One statement on ``schema.table``, cached by its shape."""
    target = sql.Identifier(schema, table.name)
    key = table.key
    if kind == "get":
        return sql.SQL("SELECT {} FROM {} WHERE {}").format(
            _names(table.column_names), target, _equal_to(key)
        )
    if kind == "get_many":
        return sql.SQL(
            "SELECT {} FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))"
        ).format(
            _names(table.column_names),
            target,
            _names(key),
            sql.SQL(", ").join(
                sql.SQL("%s::text[]::{}[]").format(sql.SQL(_key_type(table, c)))
                for c in key
            ),
        )
    if kind == "find":
        return sql.SQL("SELECT {} FROM {} WHERE {}").format(
            _names(table.column_names), target, _equal_to(columns, nulls)
        )
    if kind in ("insert", "upsert"):
        updates = [c for c in columns if c not in key]
        action = (
            sql.SQL("DO UPDATE SET {}").format(
                sql.SQL(", ").join(
                    sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                    for c in updates
                )
            )
            if kind == "upsert" and updates
            else sql.SQL("DO NOTHING")
        )
        return sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {}").format(
            target,
            _names(columns),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            _names(key),
            action,
        )
    if kind == "update":
        return sql.SQL("UPDATE {} SET {} WHERE {}").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns
            ),
            _equal_to(key),
        )
    if kind == "delete":
        return sql.SQL("DELETE FROM {} WHERE {}").format(target, _equal_to(key))
    raise ValueError(f"unknown statement kind {kind!r}")


_COMPOSED: dict[tuple[Any, ...], bytes] = {}
_COMPOSED_MAX = 4096


class PostgresRows:
    """:class:`projections.rows.Rows` in ``schema``, on an open transaction.

    Args:
        conn: A connection inside the caller's transaction.
        schema: Where the tables live (``rm_<name>``, or a rebuild's fresh one).
        tables: The projection's declared tables.
    """

    def __init__(
        self, conn: Connection, schema: str, tables: tuple[Table, ...]
    ) -> None:
        self._conn = conn
        self._schema = schema
        self._tables = {t.name: t for t in tables}
        self._required = {
            t.name: frozenset(c.name for c in t.columns if not c.nullable)
            for t in tables
        }
        self._jsonb = {
            t.name: frozenset(c.name for c in t.columns if c.type == "jsonb")
            for t in tables
        }

    def _table(self, name: str) -> Table:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(f"undeclared table {name!r}") from None

    def _params(self, table: Table, row: Mapping[str, Any]) -> list[Any]:
        unknown = set(row) - set(table.column_names)
        if unknown:
            raise KeyError(f"table {table.name}: undeclared columns {sorted(unknown)}")
        jsonb = self._jsonb[table.name]
        return [
            Jsonb(v) if name in jsonb and v is not None else v
            for name, v in row.items()
        ]

    def _key(self, table: Table, key: Key) -> list[Any]:
        values = list(key)
        if len(values) != len(table.key):
            raise ValueError(f"table {table.name}: key is {table.key}, got {key!r}")
        return values

    def _run(
        self,
        kind: str,
        table: Table,
        columns: tuple[str, ...] = (),
        nulls: frozenset[str] = frozenset(),
    ) -> bytes:
        """The statement's bytes (composed once per shape: composing costs
        more than a simple statement's round trip)."""
        shape = (kind, self._schema, table, columns, nulls)
        found = _COMPOSED.get(shape)
        if found is None:
            if len(_COMPOSED) >= _COMPOSED_MAX:
                _COMPOSED.clear()
            found = _COMPOSED[shape] = _statement(*shape).as_bytes(self._conn)
        return found

    def get(self, table: str, key: Key) -> Row | None:
        t = self._table(table)
        row = self._conn.execute(self._run("get", t), self._key(t, key)).fetchone()
        return dict(zip(t.column_names, row, strict=True)) if row else None

    def get_many(self, table: str, keys: Sequence[Key]) -> list[Row]:
        """The rows with any of ``keys`` (in no order; absent ones left out),
        in one round trip. Key values travel as text and are cast to their
        column's type, so a ``UUID`` and its text find the same row."""
        t = self._table(table)
        if not keys:
            return []
        for key in keys:
            self._key(t, key)
        params = [[str(key[i]) for key in keys] for i in range(len(t.key))]
        found = self._conn.execute(self._run("get_many", t), params).fetchall()
        return [dict(zip(t.column_names, r, strict=True)) for r in found]

    def insert(self, table: str, row: Row) -> None:
        t = self._table(table)
        self._conn.execute(self._run("insert", t, tuple(row)), self._params(t, row))

    def upsert(self, table: str, row: Row) -> None:
        t = self._table(table)
        if not self._required[table] <= row.keys():
            # Postgres checks NOT NULL on the proposed row before ON CONFLICT:
            # a partial row can only change an existing one.
            changes = {k: v for k, v in row.items() if k not in t.key}
            if self.update(table, t.key_of(row), changes):
                return
        self._conn.execute(self._run("upsert", t, tuple(row)), self._params(t, row))

    def upsert_many(self, table: str, rows: list[Row]) -> None:
        """Upsert ``rows``, each giving every column, in one round trip."""
        t = self._table(table)
        if not rows:
            return
        names = t.column_names
        statement = self._run("upsert", t, tuple(names))
        with self._conn.cursor() as cursor:
            cursor.executemany(
                statement, [self._params(t, {c: row[c] for c in names}) for row in rows]
            )

    def update(self, table: str, key: Key, changes: Row) -> bool:
        t = self._table(table)
        if not changes:
            return self.get(table, key) is not None
        params = [*self._params(t, changes), *self._key(t, key)]
        cursor = self._conn.execute(self._run("update", t, tuple(changes)), params)
        return cursor.rowcount > 0

    def delete(self, table: str, key: Key) -> None:
        t = self._table(table)
        self._conn.execute(self._run("delete", t), self._key(t, key))

    def find(self, table: str, where: Row) -> list[Row]:
        t = self._table(table)
        if "tenant_id" not in where:
            raise KeyError("find needs tenant_id")
        params = self._params(t, where)
        nulls = frozenset(k for k, v in where.items() if v is None)
        query = self._run("find", t, tuple(where), nulls)
        values = [
            p for (k, _), p in zip(where.items(), params, strict=True) if k not in nulls
        ]
        rows = self._conn.execute(query, values).fetchall()
        return [dict(zip(t.column_names, r, strict=True)) for r in rows]
