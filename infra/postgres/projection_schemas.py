"""A table projection's schema: its DDL, its recorded shape, and its writers' lock.

Each :class:`TableProjection` owns the schema ``rm_<name>``, created from its
declared :class:`Table` shapes. ``projection_shapes`` records the
:func:`shape_fingerprint` the schema was built with; when the code's
fingerprint differs, the tables no longer fit the code and the projection
needs a rebuild (its runner waits meanwhile rather than write wrong rows).

Writers of a projection's tables (runner batches, replays) hold its lock in
shared mode for their transaction; a rebuild's swap holds it exclusively.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from infra.errors import InfrastructureError
from infra.postgres.pool import Connection, Database
from infra.postgres.rows import schema_name
from projections.ports import TableProjection
from projections.rows import Table, shape_fingerprint

_LOCK_CLASS = 0x5250  # "RP": a read-model projection's writers
_TYPE = re.compile(r'^[a-z][a-z0-9 ]*(\[\])?( COLLATE "C")?$')


class ShapeMismatchError(InfrastructureError):
    """The stored tables were built for another shape (or not built yet)."""

    def __init__(self, projection: str, stored: str | None, expected: str) -> None:
        super().__init__(
            f"projection {projection}: tables have shape {stored or 'none'}, the"
            f" code expects {expected}; run `assurehub projections rebuild"
            f" {projection}` (or `assurehub migrate` for a new projection)"
        )
        self.projection = projection


def lock_shared(conn: Connection, projection: str) -> tuple[str | None, str | None]:
    """Take ``projection``'s writers lock in shared mode for the transaction;
    return what a writer checks first: the recorded fingerprint (``None`` if
    its schema was never built) and why it is halted (``None`` if it is not;
    see :mod:`infra.postgres.projection_halts`)."""
    row = conn.execute(
        "SELECT pg_advisory_xact_lock_shared(%s, hashtext(%s)),"
        " (SELECT fingerprint FROM projection_shapes WHERE projection = %s),"
        " (SELECT reason FROM projection_halts WHERE projection = %s)",
        (_LOCK_CLASS, projection, projection, projection),
    ).fetchone()
    return (row[1], row[2]) if row else (None, None)


def lock_exclusive(conn: Connection, projection: str) -> None:
    """Take ``projection``'s writers lock exclusively for the transaction."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_CLASS, projection)
    )


def stored_fingerprint(conn: Connection, projection: str) -> str | None:
    """The fingerprint ``projection``'s tables were built with, if any."""
    row = conn.execute(
        "SELECT fingerprint FROM projection_shapes WHERE projection = %s",
        (projection,),
    ).fetchone()
    return str(row[0]) if row else None


def check_shape(projection: TableProjection, stored: str | None) -> None:
    """Raise :class:`ShapeMismatchError` unless ``stored`` is the code's shape."""
    expected = shape_fingerprint(projection.tables)
    if stored != expected:
        raise ShapeMismatchError(projection.name, stored, expected)


def _column_type(declared: str) -> sql.SQL:
    if not _TYPE.match(declared):
        raise ValueError(f"unsupported column type {declared!r}")
    return sql.SQL(declared)  # checked above; declared in code, never input


def create_tables(conn: Connection, schema: str, tables: tuple[Table, ...]) -> None:
    """Create ``schema`` and the tables, without keys or indexes (load first)."""
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    for table in tables:
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}{}").format(
                sql.Identifier(c.name),
                _column_type(c.type),
                sql.SQL("" if c.nullable else " NOT NULL"),
            )
            for c in table.columns
        )
        conn.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                sql.Identifier(schema, table.name), columns
            )
        )


_UNDUMPABLE = (psycopg.DataError, TypeError, ValueError, AttributeError, OverflowError)
"""What dumping a value that does not fit its column's binary form raises."""


def copy_rows(
    conn: Connection,
    schema: str,
    table: Table,
    rows: Callable[[], Iterable[Sequence[Any]]],
) -> None:
    """COPY ``rows()`` (values in column order) into ``table`` of ``schema``,
    inside the caller's transaction.

    The binary format is tried first (the server parses no text, the client
    formats no dates, times or UUIDs); a value whose Python type does not
    dump to its column's binary form (text given for a ``uuid``, say) makes
    the table go again, in a savepoint, in the text format, where Postgres
    parses the values as an ``INSERT`` of them would.
    """
    target = sql.Identifier(schema, table.name)
    names = sql.SQL(", ").join(map(sql.Identifier, table.column_names))
    binary = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(target, names)
    types = [_binary_type(c.type) for c in table.columns]
    try:
        with conn.transaction(), conn.cursor() as cursor, cursor.copy(binary) as out:
            out.set_types(types)
            for row in rows():
                out.write_row(row)
        return
    except _UNDUMPABLE:
        pass
    text = sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)
    with conn.cursor() as cursor, cursor.copy(text) as out:
        for row in rows():
            out.write_row(row)


def _binary_type(declared: str) -> str:
    """The type name psycopg dumps a declared column type's values by."""
    base = declared.removesuffix(' COLLATE "C"')
    return {"integer": "int4", "bigint": "int8", "boolean": "bool"}.get(base, base)


def _index_part(table: Table, part: str) -> sql.Composable:
    """A declared column, or an expression written in the declaration."""
    if part in table.column_names:
        return sql.Identifier(part)
    return sql.SQL(part)  # an expression from the code's declaration


def create_keys(conn: Connection, schema: str, tables: tuple[Table, ...]) -> None:
    """Add primary keys and indexes (after a bulk load: faster than before)."""
    for table in tables:
        target = sql.Identifier(schema, table.name)
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
                target, sql.SQL(", ").join(map(sql.Identifier, table.key))
            )
        )
        for index in table.indexes:
            conn.execute(
                sql.SQL("CREATE INDEX ON {} ({})").format(
                    target,
                    sql.SQL(", ").join(_index_part(table, p) for p in index),
                )
            )


def record_shape(
    conn: Connection, projection: TableProjection, built_up_to: int
) -> None:
    """Record the fingerprint its tables now have, built from events up to
    ``built_up_to``."""
    conn.execute(
        "INSERT INTO projection_shapes (projection, fingerprint, built_up_to)"
        " VALUES (%s, %s, %s) ON CONFLICT (projection) DO UPDATE SET"
        " fingerprint = EXCLUDED.fingerprint, built_up_to = EXCLUDED.built_up_to,"
        " built_at = now()",
        (projection.name, shape_fingerprint(projection.tables), built_up_to),
    )


@dataclass(frozen=True)
class SchemaState:
    """Whether a projection's tables fit its code.

    Attributes:
        projection: Its name.
        state: ``ready`` (fits), ``created`` (created empty just now: the store
            had no events), ``missing`` (never built, events exist: needs a
            first build) or ``changed`` (built for another shape: needs a
            rebuild, the old tables keep serving meanwhile).
    """

    projection: str
    state: str


def ensure_schema(
    conn: Connection, projection: TableProjection, store_is_empty: bool
) -> SchemaState:
    """Create ``projection``'s schema if it was never built and no event
    exists yet; otherwise say what it needs (``migrate`` calls this)."""
    with conn.transaction():
        lock_exclusive(conn, projection.name)
        stored = stored_fingerprint(conn, projection.name)
        if stored is not None:
            fits = stored == shape_fingerprint(projection.tables)
            return SchemaState(projection.name, "ready" if fits else "changed")
        if not store_is_empty:
            return SchemaState(projection.name, "missing")
        schema = schema_name(projection.name)
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
        create_tables(conn, schema, projection.tables)
        create_keys(conn, schema, projection.tables)
        record_shape(conn, projection, 0)
        for table in (
            "projection_tracking",
            "projection_dead_letters",
            "projection_halts",
        ):
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE projection = %s").format(
                    sql.Identifier(table)
                ),
                (projection.name,),
            )
    return SchemaState(projection.name, "created")


def ensure_schemas(
    database: Database,
    projections: tuple[TableProjection, ...],
    store_is_empty: bool,
) -> list[SchemaState]:
    """:func:`ensure_schema` for each of ``projections``."""
    with database.connection() as conn:
        return [ensure_schema(conn, p, store_is_empty) for p in projections]
