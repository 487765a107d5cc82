"""The contract of the :class:`projections.rows.Rows` port, one class for
every backend: subclass it and provide the ``rows`` fixture (a fresh, empty
backend holding :data:`TABLES`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from projections.rows import Column, Rows, Table

ITEMS = Table(
    "items",
    (
        Column("tenant_id", "text", False),
        Column("id", "uuid", False),
        Column("name", "text", False),
        Column("due", "date"),
        Column("seen_at", "timestamptz"),
        Column("count", "integer"),
        Column("done", "boolean"),
        Column("details", "jsonb"),
        Column("team", "text[]"),
    ),
    key=("tenant_id", "id"),
    indexes=(("tenant_id", "name"),),
)
LINES = Table(
    "lines",
    (
        Column("tenant_id", "text", False),
        Column("item_id", "uuid", False),
        Column("number", "integer", False),
        Column("text", "text"),
    ),
    key=("tenant_id", "item_id", "number"),
)
TABLES = (ITEMS, LINES)
AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def item(tenant: str = "t1", **values) -> dict:
    return {"tenant_id": tenant, "id": uuid4(), "name": "Widget", **values}


class RowsContract:
    @pytest.fixture
    def rows(self) -> Rows:
        raise NotImplementedError

    def test_a_missing_row_is_none(self, rows):
        assert rows.get("items", ("t1", uuid4())) is None

    def test_an_inserted_row_reads_back_with_every_column(self, rows):
        row = item(due=date(2026, 5, 1), seen_at=AT, count=3, done=True)
        rows.insert("items", row)
        got = rows.get("items", ("t1", row["id"]))
        assert got == {**row, "details": None, "team": None}

    def test_json_and_array_values_round_trip(self, rows):
        row = item(details={"grades": ["major"], "n": 2}, team=["ann", "bob"])
        rows.insert("items", row)
        got = rows.get("items", ("t1", row["id"]))
        assert got is not None
        assert got["details"] == {"grades": ["major"], "n": 2}
        assert got["team"] == ["ann", "bob"]
        rows.update("items", ("t1", row["id"]), {"details": [1, 2]})
        again = rows.get("items", ("t1", row["id"]))
        assert again is not None
        assert again["details"] == [1, 2]

    def test_insert_of_an_existing_key_changes_nothing(self, rows):
        row = item()
        rows.insert("items", row)
        rows.insert("items", {**row, "name": "Other"})
        got = rows.get("items", ("t1", row["id"]))
        assert got is not None
        assert got["name"] == "Widget"

    def test_upsert_inserts_then_sets_only_the_columns_given(self, rows):
        row = item(count=1, done=False)
        rows.upsert("items", row)
        rows.upsert("items", {"tenant_id": "t1", "id": row["id"], "count": 2})
        got = rows.get("items", ("t1", row["id"]))
        assert got is not None
        assert (got["name"], got["count"], got["done"]) == ("Widget", 2, False)

    def test_update_says_whether_the_row_exists(self, rows):
        row = item()
        assert rows.update("items", ("t1", row["id"]), {"name": "X"}) is False
        assert rows.get("items", ("t1", row["id"])) is None
        rows.insert("items", row)
        assert rows.update("items", ("t1", row["id"]), {"name": "X"}) is True
        assert rows.update("items", ("t1", row["id"]), {}) is True
        got = rows.get("items", ("t1", row["id"]))
        assert got is not None
        assert got["name"] == "X"

    def test_delete_removes_one_row_and_ignores_a_missing_one(self, rows):
        keep, drop = item(), item()
        rows.insert("items", keep)
        rows.insert("items", drop)
        rows.delete("items", ("t1", drop["id"]))
        rows.delete("items", ("t1", uuid4()))
        assert rows.get("items", ("t1", drop["id"])) is None
        assert rows.get("items", ("t1", keep["id"])) is not None

    def test_find_matches_every_condition_within_the_tenant(self, rows):
        parent = uuid4()
        for tenant, number, text in [
            ("t1", 1, "a"),
            ("t1", 2, None),
            ("t1", 3, "a"),
            ("t2", 1, "a"),
        ]:
            rows.insert(
                "lines",
                {
                    "tenant_id": tenant,
                    "item_id": parent,
                    "number": number,
                    "text": text,
                },
            )
        found = rows.find("lines", {"tenant_id": "t1", "item_id": parent, "text": "a"})
        assert sorted(r["number"] for r in found) == [1, 3]
        nulls = rows.find("lines", {"tenant_id": "t1", "text": None})
        assert [r["number"] for r in nulls] == [2]
        assert rows.find("lines", {"tenant_id": "t3"}) == []

    def test_find_refuses_a_query_without_tenant(self, rows):
        with pytest.raises(KeyError):
            rows.find("lines", {"number": 1})

    def test_the_same_id_in_two_tenants_is_two_rows(self, rows):
        row = item()
        rows.insert("items", row)
        rows.insert("items", {**row, "tenant_id": "t2", "name": "Theirs"})
        mine = rows.get("items", ("t1", row["id"]))
        theirs = rows.get("items", ("t2", row["id"]))
        assert mine is not None
        assert theirs is not None
        assert (mine["name"], theirs["name"]) == ("Widget", "Theirs")

    def test_undeclared_tables_and_columns_are_refused(self, rows):
        with pytest.raises(KeyError):
            rows.get("nope", ("t1", uuid4()))
        with pytest.raises(KeyError):
            rows.insert("items", item(colour="red"))
