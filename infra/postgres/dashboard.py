"""The per-tenant dashboard, counted in Postgres in one statement.

Counts come from the audits read model (``rm_audits.audits`` and
``rm_audits.findings``) and the certificate registry
(``rm_certificates.certificates``), always within the caller's tenant and,
when the caller is limited to some organizations or audits, within those. Each
count's filter matches an index the tables declare: ``(tenant_id, status, …)``
on audits, ``(tenant_id, grade, status)`` and ``(tenant_id, action_due,
due_date)`` on findings, ``(tenant_id, status, expiry_date)`` on certificates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from psycopg import sql

from domain.audit_values import FINISHED, AuditStatus, FindingStatus, Grade
from domain.certificate_values import IN_FORCE
from domain.principal import Principal
from infra.postgres.pool import Database
from infra.postgres.rows import qualified
from infra.postgres.watermark import WATERMARK
from projections.audit_tables import AUDITS, FINDINGS
from projections.audits import AuditProjection
from projections.certificates import CERTIFICATES, CertificateProjection

PROJECTIONS = (AuditProjection.name, CertificateProjection.name)
"""The read models the dashboard is built from (its cache watermark)."""

EXPIRY_WINDOWS = (30, 60, 90)
"""Days ahead for "certificates expiring within N days" (cumulative)."""

_OPEN = sorted(s.value for s in FindingStatus if s not in FINISHED)
"""Statuses of findings whose ``open`` column is true."""


@dataclass(frozen=True)
class Dashboard:
    """What a tenant's dashboard shows on ``today``.

    Attributes:
        today: The tenant's date the counts were made for.
        audits_by_status: Every audit status, zero included.
        open_major_nonconformities: Open (neither closed nor dismissed) majors.
        open_minor_nonconformities: Open minors.
        overdue_corrective_actions: Nonconformities whose corrective action is
            still due and whose promised date is before ``today``.
        certificates_expiring: Days ahead (30, 60, 90) to the number of active
            or suspended certificates with ``today <= expiry_date <= today+N``.
        as_of: Opaque watermark of the read models' progress the counts were
            read at; it changes whenever they apply an event.
    """

    today: date
    audits_by_status: dict[str, int]
    open_major_nonconformities: int
    open_minor_nonconformities: int
    overdue_corrective_actions: int
    certificates_expiring: dict[int, int]
    as_of: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the cache)."""
        return asdict(self) | {"today": self.today.isoformat()}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Dashboard:
        """The inverse of :meth:`to_json`."""
        expiring = {int(k): int(v) for k, v in value["certificates_expiring"].items()}
        return cls(
            **value
            | {"today": date.fromisoformat(value["today"])}
            | {"certificates_expiring": expiring}
        )


_SUMMARY = """
WITH a AS (
    SELECT status, count(*) AS n FROM {audits}
    WHERE tenant_id = %(tenant)s {audit_scope} GROUP BY status
), f AS (
    SELECT count(*) FILTER (WHERE grade = %(major)s) AS majors,
           count(*) FILTER (WHERE grade = %(minor)s) AS minors
    FROM {findings}
    WHERE tenant_id = %(tenant)s AND grade = ANY(%(grades)s)
      AND status = ANY(%(open)s) {finding_scope}
), o AS (
    SELECT count(*) AS n FROM {findings}
    WHERE tenant_id = %(tenant)s AND action_due AND due_date < %(today)s
      {finding_scope}
), c AS (
    SELECT {expiring} FROM {certificates}
    WHERE tenant_id = %(tenant)s AND status = ANY(%(in_force)s)
      AND expiry_date BETWEEN %(today)s AND %(last)s {certificate_scope}
)
SELECT (SELECT coalesce(json_object_agg(status, n), '{{}}') FROM a),
       f.majors, f.minors, o.n, c.*, {watermark}
FROM f, o, c
"""


def _scope(principal: Principal, organization: str, audit: str) -> sql.Composable:
    """``AND`` the caller's organization and audit limits, if any."""
    parts: list[sql.Composable] = []
    for ids, column, name in (
        (principal.organization_ids, organization, "organizations"),
        (principal.audit_ids, audit, "audit_ids"),
    ):
        if ids is not None:
            parts.append(
                sql.SQL(" AND {} = ANY({}::uuid[])").format(
                    sql.Identifier(column), sql.Placeholder(name)
                )
            )
    return sql.Composed(parts)


def _statement(principal: Principal) -> sql.Composed:
    expiring = sql.SQL(", ").join(
        sql.SQL("count(*) FILTER (WHERE expiry_date <= {})").format(
            sql.Placeholder(f"within_{days}")
        )
        for days in EXPIRY_WINDOWS
    )
    return sql.SQL(_SUMMARY).format(
        audits=qualified(AuditProjection.name, AUDITS.name),
        findings=qualified(AuditProjection.name, FINDINGS.name),
        certificates=qualified(CertificateProjection.name, CERTIFICATES),
        audit_scope=_scope(principal, "organization_id", "id"),
        finding_scope=_scope(principal, "organization_id", "audit_id"),
        certificate_scope=_scope(principal, "organization_id", "audit_id"),
        expiring=expiring,
        watermark=sql.SQL(WATERMARK),
    )


class PostgresDashboardView:
    """Counts of the dashboard, always within the caller's scopes.

    Args:
        database: The read-model pool.
        topic: The events topic whose progress ``as_of`` reports.
    """

    def __init__(self, database: Database, topic: str) -> None:
        self._db = database
        self._topic = topic

    def summary(self, principal: Principal, today: date) -> Dashboard:
        """The dashboard of ``principal``'s tenant and scopes on ``today``."""
        params: dict[str, Any] = {
            "tenant": principal.tenant_id,
            "today": today,
            "last": today + timedelta(days=max(EXPIRY_WINDOWS)),
            "major": Grade.MAJOR_NONCONFORMITY.value,
            "minor": Grade.MINOR_NONCONFORMITY.value,
            "grades": [
                Grade.MAJOR_NONCONFORMITY.value,
                Grade.MINOR_NONCONFORMITY.value,
            ],
            "open": _OPEN,
            "in_force": sorted(s.value for s in IN_FORCE),
            "organizations": sorted(principal.organization_ids or ()),
            "audit_ids": sorted(principal.audit_ids or ()),
            "projections": list(PROJECTIONS),
            "topic": self._topic,
            **{f"within_{d}": today + timedelta(days=d) for d in EXPIRY_WINDOWS},
        }
        with self._db.connection() as conn:
            row = conn.execute(_statement(principal), params).fetchone()
        assert row is not None  # aggregates always return one row
        by_status: dict[str, int] = row[0]
        counts = row[4 : 4 + len(EXPIRY_WINDOWS)]
        return Dashboard(
            today=today,
            audits_by_status={
                s.value: int(by_status.get(s.value, 0)) for s in AuditStatus
            },
            open_major_nonconformities=int(row[1]),
            open_minor_nonconformities=int(row[2]),
            overdue_corrective_actions=int(row[3]),
            certificates_expiring={
                days: int(n) for days, n in zip(EXPIRY_WINDOWS, counts, strict=True)
            },
            as_of=str(row[-1]),
        )
