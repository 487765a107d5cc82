"""Erasing a person over HTTP: refused under a legal hold, then done; after it
no plaintext of the person's name or e-mail is left anywhere the system
controls — not in any Postgres table (events, keys, identity rows, outbox,
claims, idempotency answers, read models), not on the Kafka topic, not in the
files under ``var/``, not in the log output."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.e2e.conftest import as_user
from tests.kafka_helpers import consume_until, headers

VAR = Path(__file__).resolve().parents[2] / "var"
SKIPPED_DIRS = {"postgres", "tools"}
"""Postgres is searched through SQL (its files keep old row versions until
vacuumed); the tools are not data."""


def tables_holding(conninfo: str, needle: str) -> list[str]:
    """Every table (any schema) with a row whose text, bytea shown as
    escaped text, contains ``needle``."""
    found = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT c.table_schema, c.table_name, c.column_name, c.data_type"
            " FROM information_schema.columns c JOIN information_schema.tables t"
            " USING (table_schema, table_name) WHERE t.table_type = 'BASE TABLE'"
            " AND c.table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        by_table: dict[tuple[str, str], list[sql.Composable]] = {}
        for schema, table, column, kind in columns:
            ident = sql.Identifier(column)
            text = (
                sql.SQL("encode({}, 'escape')").format(ident)
                if kind == "bytea"
                else sql.SQL("{}::text").format(ident)
            )
            by_table.setdefault((schema, table), []).append(text)
        for (schema, table), texts in by_table.items():
            query = sql.SQL(
                "SELECT 1 FROM {}.{} WHERE concat_ws('|', {}) ILIKE %s LIMIT 1"
            )
            hit = conn.execute(
                query.format(
                    sql.Identifier(schema),
                    sql.Identifier(table),
                    sql.SQL(", ").join(texts),
                ),
                (f"%{needle}%",),
            ).fetchone()
            if hit:
                found.append(f"{schema}.{table}")
    return found


def files_holding(needle: str) -> list[str]:
    data = needle.encode()
    hits = []
    for path in VAR.rglob("*"):
        parts = path.relative_to(VAR).parts
        if parts[0] in SKIPPED_DIRS or not path.is_file() or path.is_symlink():
            continue
        try:
            if data in path.read_bytes():
                hits.append(str(path))
        except OSError:
            continue  # a file removed or locked meanwhile
    return hits


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def test_after_an_erasure_no_plaintext_of_the_person_remains(http, pipeline, logged):
    tenant = f"e2e-erase-{uuid.uuid4().hex[:8]}"
    admin = as_user(tenant)
    marker = uuid.uuid4().hex[:10]
    name, email = f"Quentin Zebedee {marker}", f"quentin.{marker}@example.com"
    invited = http.post(
        "/users/invitations",
        json={"email": email, "name": name, "roles": ["auditor"]},
        headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert invited.status_code == 201, invited.text
    person = invited.json()["id"]
    shown = http.get(
        f"/users/{person}",
        headers=admin,
        params={"min_position": invited.json()["position"]},
    ).json()
    assert (shown["email"], shown["name"]) == (email, name)

    held = http.put(
        f"/users/{person}/legal-hold",
        json={"reason": "Dispute 2026-114"},
        headers=admin,
    )
    assert held.status_code == 200, held.text
    refused = http.post(f"/users/{person}/erase", headers=admin)
    assert refused.status_code == 409
    assert refused.json()["code"] == "account.legal_hold"
    assert http.delete(f"/users/{person}/legal-hold", headers=admin).status_code == 200
    erased = http.post(f"/users/{person}/erase", headers=admin)
    assert erased.status_code == 200, erased.text

    after = http.get(
        f"/users/{person}",
        headers=admin,
        params={"min_position": erased.json()["position"]},
    ).json()
    assert (after["email"], after["name"], after["status"]) == (
        "[erased]",
        "[erased]",
        "deactivated",
    )
    records = consume_until(
        pipeline.settings,
        pipeline.settings.kafka_topic,
        lambda rs: any(
            headers(r)["ce_type"] == "assurehub.account.erased.v1"
            and headers(r)["ce_subject"] == person
            for r in rs
        ),
    )
    mine = [json.loads(r.value) for r in records if headers(r)["ce_subject"] == person]
    assert mine[0]["email"].startswith("pii:v1:")  # published before: sealed

    conninfo = str(pipeline.settings.database_url)
    for needle in (name, email, marker):
        assert tables_holding(conninfo, needle) == [], needle
        assert [r.offset for r in records if needle.encode() in r.value] == [], needle
        assert files_holding(needle) == [], needle
        assert needle not in logged.text, needle
    # The check can fail: the same search finds what is still there.
    assert tables_holding(conninfo, person), "the search finds nothing at all"
