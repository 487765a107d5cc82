"""PostgresRows fulfils the Rows contract, in a schema built from the tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from psycopg import sql

from infra.postgres.buffered_rows import BufferedRows, BufferedWriteError
from infra.postgres.projection_schemas import create_keys, create_tables
from infra.postgres.rows import PostgresRows
from tests.rows_contract import TABLES, RowsContract, item


@contextmanager
def contract_tables(container) -> Iterator[tuple[PostgresRows, Any]]:
    """PostgresRows on the contract's tables in a fresh schema, inside a
    transaction on the connection it also yields; the schema is dropped
    afterwards."""
    schema = f"rm_contract_{uuid.uuid4().hex[:8]}"
    with container.database.connection() as conn:
        with conn.transaction():
            create_tables(conn, schema, TABLES)
            create_keys(conn, schema, TABLES)
        try:
            with conn.transaction():
                yield PostgresRows(conn, schema, TABLES), conn
        finally:
            conn.execute(
                sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema))
            )


class TestPostgresRows(RowsContract):
    @pytest.fixture
    def rows(self, container, migrated):
        with contract_tables(container) as (rows, _):
            yield rows

    def test_get_many_reads_the_rows_of_the_keys_given(self, rows):
        a, b = item(name="A"), item(name="B")
        rows.insert("items", a)
        rows.insert("items", b)
        rows.insert("lines", {"tenant_id": "t1", "item_id": a["id"], "number": 2})
        found = rows.get_many(
            "items", [("t1", a["id"]), ("t1", str(b["id"])), ("t1", uuid.uuid4())]
        )
        assert sorted(r["name"] for r in found) == ["A", "B"]
        assert rows.get_many("items", [("t2", a["id"])]) == []
        lines = rows.get_many("lines", [("t1", a["id"], 2), ("t1", a["id"], 3)])
        assert [(r["item_id"], r["number"]) for r in lines] == [(a["id"], 2)]

    def test_upsert_many_writes_new_rows_and_changes_existing_ones(self, rows):
        existing = item(name="Old")
        rows.insert("items", existing)
        full = {c: None for c in TABLES[0].column_names}
        many = [{**full, **item(name=f"N{i}")} for i in range(250)]
        many.insert(103, {**full, **existing, "name": "New", "count": 2})
        rows.upsert_many("items", many)
        stored = rows.find("items", {"tenant_id": "t1"})
        assert len(stored) == len(many)
        assert {r["name"] for r in stored} == {r["name"] for r in many}
        assert rows.get("items", ("t1", existing["id"]))["count"] == 2


class TestBufferedRows(RowsContract):
    """Rows held for a batch fulfil the contract too, and once flushed the
    tables hold what was read back."""

    @pytest.fixture
    def held(self, container, migrated):
        with contract_tables(container) as (direct, conn):
            yield BufferedRows(direct, TABLES), direct, conn

    @pytest.fixture
    def rows(self, held):
        buffered, direct, _ = held
        yield buffered

        def everything(rows) -> dict:
            return {
                (t.name, t.key_of(r)): r
                for t in TABLES
                for r in rows.find(t.name, {"tenant_id": "t1"})
            }

        seen = everything(buffered)
        buffered.flush()
        assert everything(direct) == seen

    def test_a_refused_write_fails_at_the_flush(self, held):
        buffered, direct, conn = held
        row = {"tenant_id": "t1", "id": uuid.uuid4(), "name": "Widget"}
        buffered.insert("items", row)
        assert buffered.update("items", ("t1", row["id"]), {"name": None})
        assert direct.get("items", ("t1", row["id"])) is None  # held, not sent
        with pytest.raises(BufferedWriteError), conn.transaction():
            buffered.flush()

    def test_a_prefetch_reads_the_rows_once_and_knows_the_absent_ones(self, held):
        buffered, direct, _ = held
        stored = item(name="Stored")
        direct.insert("items", stored)
        absent = uuid.uuid4()
        capitals = str(uuid.uuid4()).upper()  # not as Postgres returns it
        reads = []
        direct.get = lambda table, key: reads.append(key)
        asked = buffered.prefetch(
            [
                ("items", ("t1", stored["id"])),
                ("items", ("t1", str(absent))),
                ("items", ("t1", capitals)),
                ("items", ("t1", "not a uuid")),
                ("lines", ("t1", absent, "1")),  # an integer given as text
            ]
        )
        assert asked == 1  # of the two keys asked for, one row exists
        assert buffered.get("items", ("t1", stored["id"]))["name"] == "Stored"
        assert buffered.get("items", ("t1", absent)) is None
        assert reads == []
        buffered.get("items", ("t1", capitals))
        assert reads == [("t1", capitals)]  # left to the read by key
