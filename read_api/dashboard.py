"""The per-tenant dashboard."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from commands.http.edge import requires, tenant_today
from domain.access import Permission
from domain.principal import Principal
from infra.cache.views import ReadServices
from infra.postgres import dashboard
from infra.postgres.dashboard import Dashboard
from read_api.consistency import min_position, wait_for_projection
from read_api.exact_query import exact_query
from read_api.schemas.rows import examples

router = APIRouter(prefix="/dashboard", tags=["dashboard"])

Reader = Annotated[Principal, Depends(exact_query(requires(Permission.DASHBOARD_READ)))]
MinPosition = Annotated[int | None, Depends(min_position)]


class NonconformitiesPublic(BaseModel):
    major: int = Field(description="Open major nonconformities")
    minor: int = Field(description="Open minor nonconformities")


class CertificatesExpiringPublic(BaseModel):
    within_30_days: int
    within_60_days: int
    within_90_days: int


class DashboardPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "today": "2026-03-05",
                "audits_by_status": {
                    "planned": 4,
                    "in_progress": 2,
                    "report_drafted": 0,
                    "under_review": 1,
                    "review_approved": 0,
                    "decided": 1,
                    "closed": 12,
                    "cancelled": 1,
                },
                "open_nonconformities": {"major": 0, "minor": 3},
                "overdue_corrective_actions": 1,
                "certificates_expiring": {
                    "within_30_days": 0,
                    "within_60_days": 1,
                    "within_90_days": 2,
                },
                "as_of": "4431",
            }
        )
    )

    today: date = Field(description="The tenant's date the counts are for")
    audits_by_status: dict[str, int] = Field(
        description="Audits in each status (every status, zeros included)"
    )
    open_nonconformities: NonconformitiesPublic = Field(
        description="Findings neither closed nor dismissed, by grade"
    )
    overdue_corrective_actions: int = Field(
        description="Nonconformities whose corrective action is still due and "
        "whose promised date is before today"
    )
    certificates_expiring: CertificatesExpiringPublic = Field(
        description="Active or suspended certificates whose expiry date is "
        "between today and today + N days, both included (cumulative)"
    )
    as_of: str = Field(
        description="Opaque token of the read models' progress the counts "
        "reflect; use min_position for read-your-writes"
    )

    @classmethod
    def of(cls, summary: Dashboard) -> DashboardPublic:
        expiring = summary.certificates_expiring
        return cls(
            today=summary.today,
            audits_by_status=summary.audits_by_status,
            open_nonconformities=NonconformitiesPublic(
                major=summary.open_major_nonconformities,
                minor=summary.open_minor_nonconformities,
            ),
            overdue_corrective_actions=summary.overdue_corrective_actions,
            certificates_expiring=CertificatesExpiringPublic(
                within_30_days=expiring[30],
                within_60_days=expiring[60],
                within_90_days=expiring[90],
            ),
            as_of=summary.as_of,
        )


@router.get("", response_model=DashboardPublic)
async def get_dashboard(
    request: Request, principal: Reader, position: MinPosition
) -> DashboardPublic:
    """Counts for the caller's tenant (and organization or audit scope):
    audits by status, open nonconformities, overdue corrective actions and
    certificates expiring within 30, 60 and 90 days."""
    for projection in dashboard.PROJECTIONS:
        await wait_for_projection(request, projection, position)
    today = await tenant_today(request, principal.tenant_id)
    services: ReadServices = request.app.state.read_services
    summary = await run_in_threadpool(services.dashboard.summary, principal, today)
    return DashboardPublic.of(summary)
