"""MemoryRows fulfils the Rows contract, and its finds stay right and cheap."""

from __future__ import annotations

import copy
import random
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.rows import MemoryRows, Row
from tests.rows_contract import ITEMS, TABLES, RowsContract, item


class TestMemoryRows(RowsContract):
    @pytest.fixture
    def rows(self):
        return MemoryRows(TABLES)


def scan(rows: MemoryRows, table: str, where: Row) -> list[Row]:
    """What ``find`` must return: every matching row, in table order."""
    return [
        dict(r)
        for r in rows.rows(table)
        if all(r.get(k) == v for k, v in where.items())
    ]


def names(found: list[Row]) -> list[str]:
    return [r["name"] for r in found]


def test_finds_stay_right_after_updates_deletes_and_upserts_of_indexed_columns():
    rows = MemoryRows(TABLES)
    a, b, c = item(name="a"), item(name="b"), item(name="a")
    for row in (a, b, c):
        rows.insert("items", row)
    by_name = {"tenant_id": "t1", "name": "a"}
    assert names(rows.find("items", by_name)) == ["a", "a"]  # builds the index

    rows.update("items", ("t1", a["id"]), {"name": "b", "count": 1})
    assert [r["id"] for r in rows.find("items", by_name)] == [c["id"]]
    b_rows = rows.find("items", {"tenant_id": "t1", "name": "b"})
    assert [r["id"] for r in b_rows] == [a["id"], b["id"]]  # table order

    rows.delete("items", ("t1", c["id"]))
    assert rows.find("items", by_name) == []

    rows.upsert("items", {"tenant_id": "t1", "id": b["id"], "name": "a"})
    rows.upsert("items", item(name="a", id=c["id"]))  # back, now last
    found = rows.find("items", by_name)
    assert [r["id"] for r in found] == [b["id"], c["id"]]
    assert found == scan(rows, "items", by_name)

    rows.insert("items", {**a, "name": "a"})  # key exists: changes nothing
    assert [r["id"] for r in rows.find("items", by_name)] == [b["id"], c["id"]]
    assert rows.find("items", {"tenant_id": "t2", "name": "a"}) == []


def test_found_rows_are_copies():
    rows = MemoryRows(TABLES)
    row = item(name="a")
    rows.insert("items", row)
    [found] = rows.find("items", {"tenant_id": "t1", "name": "a"})
    found["name"] = "changed"
    assert names(rows.find("items", {"tenant_id": "t1", "name": "a"})) == ["a"]
    assert rows.find("items", {"tenant_id": "t1", "name": "changed"}) == []


def test_rows_restored_directly_in_data_are_found_as_the_rebuild_undoes_them():
    # infra.projection.memory_fold undoes a failed event by writing ``data`` directly.
    rows = MemoryRows(TABLES)
    kept = item(name="a")
    rows.insert("items", kept)
    assert names(rows.find("items", {"tenant_id": "t1", "name": "a"})) == ["a"]
    before = copy.deepcopy(rows.data["items"][("t1", kept["id"])])
    added = item(name="a")

    rows.insert("items", added)
    rows.update("items", ("t1", kept["id"]), {"name": "b"})
    rows.data["items"].pop(("t1", added["id"]), None)
    rows.data["items"][("t1", kept["id"])] = before

    assert [r["id"] for r in rows.find("items", {"tenant_id": "t1", "name": "a"})] == [
        kept["id"]
    ]
    examined = rows.examined
    assert rows.find("items", {"tenant_id": "t1", "name": "b"}) == []
    assert rows.examined == examined  # no stale entry left to look at


def test_a_row_changed_in_place_is_not_found_for_its_old_value():
    # infra.projection.memory_fold turns tuples into lists in place, as
    # Postgres returns them.
    rows = MemoryRows(TABLES)
    row = item(team=("ann", "bob"))
    rows.insert("items", row)
    assert len(rows.find("items", {"tenant_id": "t1", "team": ("ann", "bob")})) == 1
    rows.data["items"][("t1", row["id"])]["team"] = ["ann", "bob"]
    assert rows.find("items", {"tenant_id": "t1", "team": ("ann", "bob")}) == []
    assert len(rows.find("items", {"tenant_id": "t1", "team": ["ann", "bob"]})) == 1
    rows.update("items", ("t1", row["id"]), {"team": ("carl",)})
    assert len(rows.find("items", {"tenant_id": "t1", "team": ("carl",)})) == 1


def test_finds_on_list_and_dict_values_still_match_by_equality():
    rows = MemoryRows(TABLES)
    one, two = item(team=["ann"], details={"n": 1}), item(team=["bob"])
    rows.insert("items", one)
    rows.insert("items", two)
    team = {"tenant_id": "t1", "team": ["bob"]}
    assert [r["id"] for r in rows.find("items", team)] == [two["id"]]
    details = {"tenant_id": "t1", "details": {"n": 1}}
    assert [r["id"] for r in rows.find("items", details)] == [one["id"]]
    rows.update("items", ("t1", one["id"]), {"team": ["bob"]})
    assert [r["id"] for r in rows.find("items", team)] == [one["id"], two["id"]]


_IDS = [UUID(int=n) for n in range(6)]
_OPS = st.lists(
    st.tuples(
        st.sampled_from(["insert", "upsert", "update", "delete", "set", "pop"]),
        st.sampled_from(["t1", "t2"]),
        st.sampled_from(_IDS),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from([None, 1, 2]),
        st.sampled_from([None, ["ann"], ("ann",)]),
    ),
    max_size=40,
)
_WHERES: list[Row] = [
    {"name": "a"},
    {"name": "b", "count": 1},
    {"count": None},
    {"done": True},
    {"team": ["ann"]},
    {"team": ("ann",)},
    {},
]


@settings(max_examples=50, deadline=None)
@given(_OPS)
def test_find_answers_what_a_scan_of_the_table_answers(ops):
    rows = MemoryRows(TABLES)
    for op, tenant, id_, name, count, team in ops:
        key = (tenant, id_)
        values = {"name": name, "count": count, "done": count == 1, "team": team}
        row = {"tenant_id": tenant, "id": id_, **values}
        if op == "insert":
            rows.insert("items", row)
        elif op == "upsert":
            rows.upsert("items", {"tenant_id": tenant, "id": id_, "name": name})
        elif op == "update":
            rows.update("items", key, {"count": count, "done": count == 1})
        elif op == "delete":
            rows.delete("items", key)
        elif op == "set":
            rows.data["items"][key] = {**dict.fromkeys(ITEMS.column_names), **row}
        else:
            rows.data["items"].pop(key, None)
        for where in _WHERES:
            for t in ("t1", "t2"):
                conditions = {"tenant_id": t, **where}
                assert rows.find("items", conditions) == scan(
                    rows, "items", conditions
                ), (op, conditions)


def test_finds_by_indexed_values_examine_only_the_rows_they_return():
    # 20,000 finds over 20,000 rows: a scan per find would examine 400 million
    # rows (minutes); the index examines each row once to build, then one row
    # per find. Asserted by count, not by time.
    rows = MemoryRows(TABLES)
    n = 20_000
    ids = [uuid4() for _ in range(n)]
    for i, id_ in enumerate(ids):
        rows.insert("items", {"tenant_id": "t1", "id": id_, "name": f"n{i}"})
    order = list(range(n))
    random.Random(7).shuffle(order)
    for i in order:
        [found] = rows.find("items", {"tenant_id": "t1", "name": f"n{i}"})
        assert found["id"] == ids[i]
        rows.update("items", ("t1", ids[i]), {"count": i})
    assert rows.examined == 2 * n
