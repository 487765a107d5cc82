"""Rows of a read-model table that belong to one parent (an audit's clause
assessments, a template's versions), for detail answers.

Only called once the parent has been read within the caller's scope; the
tenant is still part of every query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row

from domain.principal import Principal
from infra.postgres.pool import Database
from infra.postgres.rows import qualified
from projections.rows import Row, Table

MAX_CHILDREN = 10_000
"""Most rows one detail answer carries from a child table."""


class PostgresChildRows:
    """Reads child rows of one parent within the caller's tenant."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def rows(
        self,
        principal: Principal,
        projection: str,
        table: Table,
        parent: Mapping[str, Any],
        order_by: tuple[str, ...],
    ) -> list[Row]:
        """Rows of ``table`` whose columns equal ``parent``, in ``order_by``
        order, without ``tenant_id``."""
        names = [c for c in table.column_names if c != "tenant_id"]
        where: list[sql.Composable] = [sql.SQL("tenant_id = %s")]
        params: list[Any] = [principal.tenant_id]
        for column, value in parent.items():
            table.column_names.index(column)  # a declared column, or ValueError
            where.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}").format(
            sql.SQL(", ").join(map(sql.Identifier, names)),
            qualified(projection, table.name),
            sql.SQL(" AND ").join(where),
            sql.SQL(", ").join(map(sql.Identifier, order_by)),
            sql.Literal(MAX_CHILDREN),
        )
        with self._db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return list(cur.execute(query, params).fetchall())
