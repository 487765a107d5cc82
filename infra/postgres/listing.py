"""Postgres adapter of every listing: one parameterized statement per query.

:func:`statement` builds it with ``psycopg.sql``: identifiers come only from
the :class:`Listing` declaration, every value is a named parameter.

- **Tenant**: ``tenant_id = <principal's tenant>`` is the first condition of
  every statement; there is no way to build one without a Principal.
- **Scopes**: a Principal limited to organizations (audits) sees rows whose
  ``organization_column`` (``audit_column``) is one of them. A listing that
  lacks the column answers nothing to a limited caller: a scope the table
  cannot express denies, it is never ignored. A caller holding a client role
  sees only rows whose ``client_column``, if the listing has one, is true.
- **Keyset pages**: rows are ordered by the sort keys then ``id`` (unique
  within the tenant); the cursor holds the last row's key values and the
  next page is the rows strictly after them, so rows inserted behind the
  cursor never appear, and none is skipped or repeated. (A row whose sort
  key changes between pages can move across the cursor; that is inherent.)
- **NULLs** sort last in both directions (``NULLS LAST``), and "after" is
  spelled out per key instead of a row comparison, so a NULL key is neither
  compared with ``=`` nor lost: after a non-NULL ``v`` come the values past
  ``v`` and then the NULLs; after a NULL come only NULLs with a greater
  tiebreaker. An index on ``(tenant_id, <key> NULLS LAST, id)`` backs a sort.
- **Cursors** are base64url JSON of the key values and the query's
  :attr:`ListQuery.fingerprint`; one used with other filters or another sort
  is :class:`InvalidCursorError`. Cursors position, they do not authorize:
  the tenant and scope conditions apply whatever the cursor says.
- **Free text** is ``ILIKE '%term%'`` with ``\\``, ``%`` and ``_`` escaped (the
  default escape character is the backslash), so input matches literally; a
  ``pg_trgm`` GIN index can back it later without changing the SQL.
- **Prefixes** are ``LIKE 'value%'`` on a case-folded key column, escaped
  the same way; on a ``COLLATE "C"`` column a btree index serves them as a
  range scan.
- **Exports** read through a server-side cursor inside a transaction, one
  ``FETCH`` of ``batch_size`` rows at a time, so no result is ever held in
  full. They stop with :class:`ExportTooLargeError` past ``max_rows``; the
  response is then already streaming, so the client sees an aborted
  download, never a silently truncated file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Generator, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg import sql
from psycopg.rows import dict_row

from domain.principal import Principal
from infra.postgres.pool import Database
from projections.listing import (
    Condition,
    ExportTooLargeError,
    InvalidCursorError,
    Listing,
    ListQuery,
    Op,
    Page,
    SortKey,
)
from projections.rows import Row

DEFAULT_BATCH_SIZE = 500
DEFAULT_MAX_ROWS = 1_000_000


class _Params:
    """Named parameters, collected while the statement is composed."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> sql.Placeholder:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return sql.Placeholder(name)


def statement(
    principal: Principal,
    listing: Listing,
    query: ListQuery,
    *,
    after: Sequence[Any] | None = None,
    limit: int | None = None,
) -> tuple[sql.Composed, dict[str, Any]]:
    """The one ``SELECT`` that answers ``query`` for ``principal``.

    Args:
        principal: The caller; its tenant is always the first condition.
        listing: The collection.
        query: Filters and sort.
        after: Sort-key values of the row the answer starts after.
        limit: Most rows to return.

    Returns:
        The statement and its named parameters.
    """
    p = _Params()
    tenant = sql.SQL("{} = {}").format(
        sql.Identifier("tenant_id"), p(principal.tenant_id)
    )
    where: list[sql.Composable] = [tenant]
    where += _scope(principal, listing, p)
    where += [_condition(c, p) for c in query.conditions]
    if after is not None:
        where.append(_after(query.sort, after, p))
    sort_columns = [k.column for k in query.sort]
    columns = dict.fromkeys([*listing.output_columns, *sort_columns])
    composed = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.Identifier(*listing.qualified_table),
        sql.SQL(" AND ").join(where),
        sql.SQL(", ").join(map(_order, query.sort)),
    )
    if limit is not None:
        composed = sql.SQL("{} LIMIT {}").format(composed, p(limit))
    return composed, p.values


def _scope(principal: Principal, listing: Listing, p: _Params) -> list[sql.Composable]:
    """The caller's organization and audit scopes, and what a client may see;
    deny what cannot be scoped."""
    found: list[sql.Composable] = []
    scopes = (
        (principal.organization_ids, listing.organization_column),
        (principal.audit_ids, listing.audit_column),
    )
    for ids, column in scopes:
        if ids is None:
            continue
        if column is None or not ids:
            found.append(sql.SQL("FALSE"))
        else:
            found.append(
                sql.SQL("{} = ANY({})").format(sql.Identifier(column), p(sorted(ids)))
            )
    if principal.is_client and listing.client_column is not None:
        found.append(
            sql.SQL("{} IS TRUE").format(sql.Identifier(listing.client_column))
        )
    return found


def _condition(condition: Condition, p: _Params) -> sql.Composable:
    column = sql.Identifier(condition.columns[0])
    values = condition.values
    if condition.op is Op.TEXT:
        terms = []
        for term in values:
            pattern = p(f"%{_escape_like(term)}%")
            matches = [
                sql.SQL("{} ILIKE {}").format(sql.Identifier(c), pattern)
                for c in condition.columns
            ]
            terms.append(sql.SQL("({})").format(sql.SQL(" OR ").join(matches)))
        return sql.SQL(" AND ").join(terms)
    if condition.op is Op.PREFIX:
        return sql.SQL("{} LIKE {}").format(column, p(f"{_escape_like(values[0])}%"))
    if condition.op is Op.OVERLAPS:
        return sql.SQL("{} && CAST({} AS text[])").format(column, p(list(values)))
    if condition.op is Op.ANY and len(values) > 1:
        return sql.SQL("{} = ANY({})").format(column, p(list(values)))
    operator = {Op.ANY: "=", Op.GTE: ">=", Op.LTE: "<=", Op.LT: "<"}[condition.op]
    return sql.SQL("{} {} {}").format(column, sql.SQL(operator), p(values[0]))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _order(key: SortKey) -> sql.Composable:
    direction = "DESC" if key.descending else "ASC"
    nulls = " NULLS LAST" if key.nullable else ""
    return sql.SQL("{} {}").format(
        sql.Identifier(key.column), sql.SQL(direction + nulls)
    )


def _after(
    keys: Sequence[SortKey], values: Sequence[Any], p: _Params
) -> sql.Composable:
    """Rows strictly after ``values`` in the order of ``keys`` (NULLs last)."""
    disjuncts = []
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        if value is None:
            continue  # nothing sorts after NULL within this key
        column = sql.Identifier(key.column)
        operator = sql.SQL("<" if key.descending else ">")
        beyond: sql.Composable = sql.SQL("{} {} {}").format(column, operator, p(value))
        if key.nullable:
            beyond = sql.SQL("({} OR {} IS NULL)").format(beyond, column)
        equal = [_equal(k, v, p) for k, v in zip(keys[:i], values[:i], strict=True)]
        disjuncts.append(
            sql.SQL("({})").format(sql.SQL(" AND ").join([*equal, beyond]))
        )
    if not disjuncts:
        return sql.SQL("FALSE")
    after = sql.SQL("({})").format(sql.SQL(" OR ").join(disjuncts))
    first, value = keys[0], values[0]
    if first.nullable or value is None:
        return after
    # Redundant, but an index can use it as a bound where it cannot use the
    # OR: without it each next page rescans everything earlier pages showed.
    bound = sql.SQL("{} {} {}").format(
        sql.Identifier(first.column),
        sql.SQL("<=" if first.descending else ">="),
        p(value),
    )
    return sql.SQL("({} AND {})").format(bound, after)


def _equal(key: SortKey, value: Any, p: _Params) -> sql.Composable:
    column = sql.Identifier(key.column)
    if value is None:
        return sql.SQL("{} IS NULL").format(column)
    return sql.SQL("{} = {}").format(column, p(value))


def encode_cursor(query: ListQuery, row: Row) -> str:
    """The cursor of the page after ``row``."""
    values = [_jsonable(row[k.column]) for k in query.sort]
    raw = json.dumps({"f": query.fingerprint, "k": values}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(query: ListQuery) -> list[Any]:
    """The sort-key values ``query.cursor`` holds.

    Raises:
        InvalidCursorError: Not a cursor issued for this query's filters and sort.
    """
    cursor = query.cursor or ""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
        fingerprint, values = decoded["f"], decoded["k"]
        if fingerprint == query.fingerprint and len(values) == len(query.sort):
            return [_typed(k, v) for k, v in zip(query.sort, values, strict=True)]
    except (ValueError, TypeError, KeyError) as e:
        raise InvalidCursorError("cursor", "cursor is not one this API issued") from e
    raise InvalidCursorError(
        "cursor",
        "cursor was issued for other filters or another sort; "
        "repeat the first request's parameters, or start again without a cursor",
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return value


_DECODERS: dict[str, tuple[type, Any]] = {
    "text": (str, str),
    "uuid": (str, UUID),
    "integer": (int, int),
    "bigint": (int, int),
    "boolean": (bool, bool),
    "date": (str, date.fromisoformat),
    "timestamptz": (str, datetime.fromisoformat),
}


def _typed(key: SortKey, value: Any) -> Any:
    if value is None and key.nullable:
        return None
    json_type, decode = _DECODERS[key.type]
    if not isinstance(value, json_type) or (
        json_type is int and isinstance(value, bool)
    ):
        raise TypeError(f"{key.column}: {value!r}")
    if isinstance(value, str) and ("\x00" in value or not _encodable(value)):
        raise ValueError(f"{key.column}: not a text Postgres can hold")
    return decode(value)


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class PostgresListingView:
    """:class:`projections.listing.ListingView` over the read-model tables.

    Args:
        database: The pool of our own tables.
        batch_size: Rows per ``FETCH`` of an export.
        max_rows: Most rows one export may send.
    """

    def __init__(
        self,
        database: Database,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> None:
        self._db = database
        self._batch_size = batch_size
        self._max_rows = max_rows

    def page(self, principal: Principal, listing: Listing, query: ListQuery) -> Page:
        """One page of rows after ``query.cursor``."""
        after = decode_cursor(query) if query.cursor else None
        composed, params = statement(
            principal, listing, query, after=after, limit=query.limit + 1
        )
        with self._db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(composed, params).fetchall()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        next_cursor = encode_cursor(query, rows[-1]) if more else None
        return Page([_output(listing, row) for row in rows], next_cursor)

    def stream(
        self, principal: Principal, listing: Listing, query: ListQuery
    ) -> Generator[list[Row], None, None]:
        """Every matching row, in batches of one server-side ``FETCH`` each."""
        composed, params = statement(
            principal, listing, query, limit=self._max_rows + 1
        )
        sent = 0
        with (
            self._db.connection() as conn,
            conn.transaction(),
            conn.cursor(name=f"listing_{uuid4().hex}", row_factory=dict_row) as cur,
        ):
            cur.execute(composed, params)
            while batch := cur.fetchmany(self._batch_size):
                sent += len(batch)
                if sent > self._max_rows:
                    raise ExportTooLargeError(
                        "format",
                        f"more than {self._max_rows} rows; narrow the filters",
                    )
                yield [_output(listing, row) for row in batch]


def _output(listing: Listing, row: Row) -> Row:
    return {name: row[name] for name in listing.output_columns}
