"""The dashboard against real Postgres and Redis: counts, scopes, boundaries,
the cache keyed by projection progress, and Redis down.

Rows are written through :class:`PostgresRows` into the schemas the projection
machinery creates; each test uses its own tenants and its own topic, so its
watermark (``projection_tracking`` rows of that topic) moves only when it says.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import httpx
import pytest

from domain.principal import Principal, Role
from infra.cache.redis import ReadCache, RedisGuard
from infra.cache.views import CachedDashboardView
from infra.postgres.dashboard import PostgresDashboardView
from infra.postgres.pool import Database
from infra.postgres.projection_schemas import ensure_schemas
from infra.postgres.rows import PostgresRows, qualified, schema_name
from infra.postgres.watermark import ProgressWatermark
from projections.audit_tables import AUDITS, FINDINGS, finding_flags
from projections.audits import AuditProjection
from projections.certificates import (
    CERTIFICATES,
    CERTIFICATES_TABLE,
    CertificateProjection,
)
from projections.ports import TableProjection
from read_api.app import create_app
from tests.e2e.conftest import closed_port, serve

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def database(migrated) -> Iterator[Database]:
    db = Database.from_settings(migrated)
    # cast: AuditProjection.tables is typed as a 4-tuple, not tuple[Table, ...]
    audits = cast("TableProjection", AuditProjection())
    ensure_schemas(db, (audits, CertificateProjection()), True)
    yield db
    db.close()


class World:
    """One test's tenants' rows and its own topic's tracking."""

    def __init__(self, database: Database) -> None:
        self.db = database
        self.topic = f"dashboard.{uuid.uuid4().hex[:10]}"
        self.position = 0

    def _put(self, projection: Any, table: str, row: dict[str, Any]) -> None:
        name = projection.name
        with self.db.connection() as conn, conn.transaction():
            PostgresRows(conn, schema_name(name), projection.tables).insert(table, row)

    def audit(self, tenant: str, status: str, org: uuid.UUID) -> uuid.UUID:
        audit_id = uuid.uuid4()
        row = dict.fromkeys(c.name for c in AUDITS.columns)
        row.update(
            tenant_id=tenant, id=audit_id, organization_id=org, status=status,
            site_ids=[], audit_type="stage_2", standard_template_id=uuid.uuid4(),
            standard_version=1, standard_name="ISO 9001", standard_edition="2015",
            planned_start=TODAY, planned_end=TODAY, scope_statement="Pumps",
            planned_by="pm", team=[], team_roles={}, reviews=[], past_decisions=[],
            reopenings=[], created_at=NOW, content_version=1, version=1, position=1,
            updated_at=NOW,
        )  # fmt: skip
        row.update({c: 0 for c in row if c.startswith("findings_")})
        self._put(AuditProjection(), "audits", row)
        return audit_id

    def finding(
        self, tenant: str, org: uuid.UUID, grade: str, status: str,
        due: date | None = None, audit_id: uuid.UUID | None = None,
    ) -> uuid.UUID:  # fmt: skip
        finding_id = uuid.uuid4()
        row = dict.fromkeys(c.name for c in FINDINGS.columns)
        row.update(
            tenant_id=tenant, id=finding_id, audit_id=audit_id or uuid.uuid4(),
            organization_id=org, clause_id="8", grade=grade,
            status=status, due_date=due, description="d", objective_evidence="e",
            evidence_ids=[], raised_on=TODAY, raised_by="a", regrades=[],
            raised_at=NOW, version=1, position=1, updated_at=NOW,
            **finding_flags(grade, status),
        )  # fmt: skip
        self._put(AuditProjection(), "findings", row)
        return finding_id

    def certificate(
        self, tenant: str, org: uuid.UUID, expiry: date, status: str = "active"
    ) -> None:
        row = dict.fromkeys(CERTIFICATES_TABLE.column_names)
        row.update(
            tenant_id=tenant, id=uuid.uuid4(), number=f"T-2026-{self.position:06d}",
            revision=1, organization_id=org, standard_name="ISO 9001",
            standard_edition="2015", sites=[], scope_text="Pumps", status=status,
            effective_date=TODAY - timedelta(days=900), expiry_date=expiry,
            version=1, position=1, number_sort="x", site_ids=[],
            audit_id=uuid.uuid4(), decision_date=TODAY, issue_date=TODAY,
            status_since=TODAY, issued_at=NOW, updated_at=NOW,
        )  # fmt: skip
        self._put(CertificateProjection(), CERTIFICATES, row)

    def applied(self, projection: str = "audits") -> None:
        """A projection applied one more event (tracking moves)."""
        self.position += 1
        with self.db.connection() as conn:
            conn.execute(
                "INSERT INTO projection_tracking"
                " (projection, topic, partition, position, kafka_offset)"
                " VALUES (%s, %s, 0, %s, %s) ON CONFLICT (projection, topic,"
                " partition) DO UPDATE SET position = EXCLUDED.position",
                (projection, self.topic, self.position, self.position),
            )

    def view(self) -> PostgresDashboardView:
        return PostgresDashboardView(self.db, self.topic)

    def cached(self, redis_url: str, **guard: Any) -> CachedDashboardView:
        cache = ReadCache(
            RedisGuard(redis_url, **guard),
            ProgressWatermark(self.db, self.topic),
            ttl=60,
            prefix=f"test:{self.topic}",
        )
        return CachedDashboardView(self.view(), cache)


def overseer(tenant: str, **scopes: Any) -> Principal:
    return Principal(tenant, "carla", frozenset({Role.COMPLIANCE_OFFICER}), **scopes)


def new_tenant() -> str:
    return f"dash-{uuid.uuid4().hex[:8]}"


def test_counts_are_per_tenant_and_every_audit_status_is_listed(database):
    world, mine, theirs = World(database), new_tenant(), new_tenant()
    org, other = uuid.uuid4(), uuid.uuid4()
    for status in ("planned", "planned", "in_progress", "closed"):
        world.audit(mine, status, org)
    world.audit(theirs, "decided", other)
    world.finding(mine, org, "major_nonconformity", "awaiting_response")
    world.finding(mine, org, "major_nonconformity", "verified")
    world.finding(mine, org, "major_nonconformity", "closed")
    world.finding(mine, org, "minor_nonconformity", "response_accepted")
    world.finding(mine, org, "minor_nonconformity", "dismissed")
    world.finding(mine, org, "observation", "noted")
    world.finding(theirs, other, "major_nonconformity", "awaiting_response")
    world.certificate(theirs, other, TODAY + timedelta(days=5))

    ours = world.view().summary(overseer(mine), TODAY)
    assert ours.audits_by_status == {
        "planned": 2, "in_progress": 1, "report_drafted": 0, "under_review": 0,
        "review_approved": 0, "decided": 0, "closed": 1, "cancelled": 0,
    }  # fmt: skip
    assert (ours.open_major_nonconformities, ours.open_minor_nonconformities) == (2, 1)
    assert ours.certificates_expiring == {30: 0, 60: 0, 90: 0}
    other_view = world.view().summary(overseer(theirs), TODAY)
    assert other_view.audits_by_status["decided"] == 1
    assert sum(other_view.audits_by_status.values()) == 1
    assert other_view.open_major_nonconformities == 1
    assert other_view.open_minor_nonconformities == 0
    assert other_view.certificates_expiring == {30: 1, 60: 1, 90: 1}


def test_a_scoped_caller_counts_only_its_organizations_and_audits(database):
    world, tenant = World(database), new_tenant()
    mine, other = uuid.uuid4(), uuid.uuid4()
    audit = world.audit(tenant, "in_progress", mine)
    world.audit(tenant, "in_progress", other)
    world.finding(
        tenant, mine, "major_nonconformity", "awaiting_response", audit_id=audit
    )
    world.finding(tenant, other, "major_nonconformity", "awaiting_response")
    world.finding(tenant, other, "minor_nonconformity", "awaiting_response",
                  due=TODAY - timedelta(days=1))  # fmt: skip
    world.certificate(tenant, mine, TODAY + timedelta(days=10))
    world.certificate(tenant, other, TODAY + timedelta(days=10))

    scoped = world.view().summary(
        overseer(tenant, organization_ids=frozenset({mine})), TODAY
    )
    assert scoped.audits_by_status["in_progress"] == 1
    assert scoped.open_major_nonconformities == 1
    assert scoped.open_minor_nonconformities == 0
    assert scoped.overdue_corrective_actions == 0
    assert scoped.certificates_expiring[30] == 1
    by_audit = world.view().summary(
        overseer(tenant, audit_ids=frozenset({audit})), TODAY
    )
    assert by_audit.audits_by_status["in_progress"] == 1
    assert by_audit.open_major_nonconformities == 1
    assert by_audit.certificates_expiring[30] == 0  # issued on other audits
    nothing = world.view().summary(
        overseer(tenant, organization_ids=frozenset()), TODAY
    )
    assert sum(nothing.audits_by_status.values()) == 0
    everything = world.view().summary(overseer(tenant), TODAY)
    assert everything.open_major_nonconformities == 2
    assert everything.overdue_corrective_actions == 1


def test_expiry_windows_include_both_ends_and_due_today_is_not_overdue(database):
    world, tenant, org = World(database), new_tenant(), uuid.uuid4()
    for days in (-1, 0, 30, 31, 60, 61, 90, 91):
        world.certificate(tenant, org, TODAY + timedelta(days=days))
    world.certificate(tenant, org, TODAY + timedelta(days=3), status="suspended")
    world.certificate(tenant, org, TODAY + timedelta(days=3), status="withdrawn")
    world.certificate(tenant, org, TODAY + timedelta(days=3), status="superseded")
    minor = "minor_nonconformity"
    world.finding(
        tenant, org, minor, "awaiting_response", due=TODAY - timedelta(days=1)
    )
    world.finding(
        tenant, org, minor, "response_accepted", due=TODAY - timedelta(days=9)
    )
    world.finding(tenant, org, minor, "awaiting_response", due=TODAY)
    world.finding(tenant, org, minor, "awaiting_response", due=None)
    world.finding(
        tenant, org, minor, "action_implemented", due=TODAY - timedelta(days=9)
    )
    world.finding(tenant, org, "observation", "noted", due=TODAY - timedelta(days=9))

    summary = world.view().summary(overseer(tenant), TODAY)
    # today, +30, suspended +3 | +31, +60 | +61, +90
    assert summary.certificates_expiring == {30: 3, 60: 5, 90: 7}
    assert summary.overdue_corrective_actions == 2
    tomorrow = world.view().summary(overseer(tenant), TODAY + timedelta(days=1))
    assert tomorrow.overdue_corrective_actions == 3


def test_a_cached_answer_is_served_until_a_projection_moves(database, migrated):
    world, tenant, org = World(database), new_tenant(), uuid.uuid4()
    world.applied()
    finding = world.finding(tenant, org, "major_nonconformity", "awaiting_response")
    dashboard = world.cached(migrated.redis_url)
    first = dashboard.summary(overseer(tenant), TODAY)
    assert first.open_major_nonconformities == 1

    with database.connection() as conn:  # a change no projection recorded
        conn.execute(
            f"UPDATE {qualified('audits', 'findings').as_string(conn)}"
            " SET grade = 'minor_nonconformity' WHERE tenant_id = %s AND id = %s",
            (tenant, finding),
        )
    cached = dashboard.summary(overseer(tenant), TODAY)
    assert cached == first  # from Redis: Postgres now says 0 majors
    assert world.view().summary(overseer(tenant), TODAY).open_major_nonconformities == 0
    other_tenant = dashboard.summary(overseer(new_tenant()), TODAY)
    assert other_tenant.open_major_nonconformities == 0  # keys are per tenant

    world.applied("certificates")
    fresh = dashboard.summary(overseer(tenant), TODAY)
    assert (fresh.open_major_nonconformities, fresh.open_minor_nonconformities) == (
        0,
        1,
    )
    assert fresh.as_of != first.as_of
    next_day = dashboard.summary(overseer(tenant), TODAY + timedelta(days=1))
    assert next_day.today == TODAY + timedelta(days=1)


def silent_listener() -> socket.socket:
    """A loopback port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener


def test_with_redis_down_answers_come_from_postgres(database, caplog):
    world, tenant, org = World(database), new_tenant(), uuid.uuid4()
    world.finding(tenant, org, "major_nonconformity", "awaiting_response")
    refused = world.cached(f"redis://127.0.0.1:{closed_port()}/0")
    assert refused.summary(overseer(tenant), TODAY).open_major_nonconformities == 1

    caplog.clear()
    listener = silent_listener()
    try:
        port = listener.getsockname()[1]
        hanging = world.cached(f"redis://127.0.0.1:{port}/0", timeout=0.3, pause=30)
        with caplog.at_level(logging.WARNING, logger="infra.cache.redis"):
            started = time.perf_counter()
            first = hanging.summary(overseer(tenant), TODAY)
            first_took = time.perf_counter() - started
            started = time.perf_counter()
            for _ in range(10):
                later = hanging.summary(overseer(tenant), TODAY)
            later_took = (time.perf_counter() - started) / 10
    finally:
        listener.close()
    assert first.open_major_nonconformities == later.open_major_nonconformities == 1
    assert first_took >= 0.3  # waited for Redis once
    assert later_took < 0.1  # then did not try it again within the pause
    warnings = [r for r in caplog.records if "redis unavailable" in r.getMessage()]
    assert len(warnings) == 1


def test_the_dashboard_route_answers_overseers_of_the_tenant_only(database, container):
    world, tenant, org = World(database), new_tenant(), uuid.uuid4()
    today = datetime.now(UTC).date()  # the tenant's zone is UTC until set
    world.audit(tenant, "under_review", org)
    world.finding(tenant, org, "minor_nonconformity", "awaiting_response",
                  due=today - timedelta(days=1))  # fmt: skip
    world.certificate(tenant, org, today + timedelta(days=45))
    headers = {"X-Dev-Tenant": tenant, "X-Dev-Actor": "carla"}
    with (
        serve(create_app(container)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        forbidden = client.get(
            "/dashboard", headers={**headers, "X-Dev-Roles": "auditor"}
        )
        answer = client.get(
            "/dashboard", headers={**headers, "X-Dev-Roles": "compliance_officer"}
        )
    assert forbidden.status_code == 403
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["today"] == today.isoformat()
    assert body["audits_by_status"]["under_review"] == 1
    assert body["open_nonconformities"] == {"major": 0, "minor": 1}
    assert body["overdue_corrective_actions"] == 1
    assert body["certificates_expiring"] == {
        "within_30_days": 0, "within_60_days": 1, "within_90_days": 1,
    }  # fmt: skip
    assert body["as_of"]
