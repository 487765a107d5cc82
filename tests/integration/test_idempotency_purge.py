"""Idempotency answers are purged once past their retention, never before."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from infra.postgres.idempotency import purge_idempotency_keys


def _record(conn, tenant: str, key: str, age: timedelta) -> None:
    conn.execute(
        "INSERT INTO idempotency_keys (tenant_id, key, fingerprint, aggregate_id,"
        " version, position, outcome, created_at)"
        " VALUES (%s, %s, 'f', %s, 1, 1, 'null', now() - %s)",
        (tenant, key, uuid.uuid4(), age),
    )


def _keys(conn, tenant: str) -> set[str]:
    rows = conn.execute(
        "SELECT key FROM idempotency_keys WHERE tenant_id = %s", (tenant,)
    ).fetchall()
    return {r[0] for r in rows}


def test_only_answers_past_the_retention_are_purged(container):
    tenant = f"purge-{uuid.uuid4().hex[:8]}"
    with container.database.connection() as conn:
        _record(conn, tenant, "fresh", timedelta(hours=1))
        _record(conn, tenant, "a-day-old", timedelta(hours=25))
        for i in range(7):
            _record(conn, tenant, f"old-{i}", timedelta(hours=49))

    purged = purge_idempotency_keys(container.database, timedelta(hours=48), batch=3)

    assert purged >= 7
    with container.database.connection() as conn:
        assert _keys(conn, tenant) == {"fresh", "a-day-old"}


def test_a_retention_under_a_day_is_refused(container):
    with pytest.raises(ValueError, match="24 hours"):
        purge_idempotency_keys(container.database, timedelta(hours=23))
