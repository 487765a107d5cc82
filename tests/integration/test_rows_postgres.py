"""PostgresRows fulfils the Rows contract, in a schema built from the tables."""

from __future__ import annotations

import uuid

import pytest
from psycopg import sql

from infra.postgres.projection_schemas import create_keys, create_tables
from infra.postgres.rows import PostgresRows
from tests.rows_contract import TABLES, RowsContract


class TestPostgresRows(RowsContract):
    @pytest.fixture
    def rows(self, container, migrated):
        schema = f"rm_contract_{uuid.uuid4().hex[:8]}"
        with container.database.connection() as conn:
            with conn.transaction():
                create_tables(conn, schema, TABLES)
                create_keys(conn, schema, TABLES)
            try:
                with conn.transaction():
                    yield PostgresRows(conn, schema, TABLES)
            finally:
                conn.execute(
                    sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema))
                )
