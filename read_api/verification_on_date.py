"""Was it valid then? A certificate revision's public facts on a past date.

The certificates projection is folded over the events of every revision of
the number that took effect by that day, each by the day it names (issued:
``effective_date``; suspended, reinstated, withdrawn, expired, superseded:
their ``*_on`` day). So a suspension, withdrawal or later revision that took
effect after that day does not change the answer, and the status is the one
the certificate had then (expired from its expiry date on, as live). The
holder's name and site names are the organizations projection folded over
the events recorded by the end of that day (UTC), or by the certificate's
issue if that was recorded later (the names it was issued to). A date
before the revision took effect matches nothing (``404``); a date after
today (UTC) is refused (``400`` naming ``on_date``).

Two doors: the public verification takes ``on_date`` in its body (number and
code as always), and staff who may read certificates ask
``GET /certificates/{id}/verification?on_date=`` for any revision of their
tenant without its code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from commands.http.edge import requires
from domain.access import Permission
from domain.certificate_values import CertificateStatus
from domain.errors import NotFoundError
from domain.principal import Principal
from infra.cache.views import ReadServices
from infra.postgres.verification import (
    CertificateVerification,
    CertifiedScope,
    LocatedCertificate,
)
from infra.projection.as_of import AsOfFolds
from projections.certificates import (
    ISSUED,
    VERIFICATIONS,
    CertificateProjection,
    effective_on,
    status_on,
)
from projections.collections import CERTIFICATES
from projections.envelope import EventEnvelope
from projections.listing import InvalidFilterValueError
from projections.organizations import ORGANIZATIONS, SITES, OrganizationProjection
from projections.rows import MemoryRows
from read_api.access_recording import recorded
from read_api.exact_query import exact_query
from read_api.resources import one
from read_api.schemas.verification import CertificateVerificationPublic

router = APIRouter(prefix="/certificates", tags=["certificates"])

Reader = Annotated[
    Principal, Depends(exact_query(requires(Permission.CERTIFICATE_READ)))
]


def past_day(day: date, parameter: str = "on_date") -> date:
    """``day`` if it is not after today (UTC).

    Raises:
        InvalidFilterValueError: a future date, naming ``parameter``.
    """
    if day > datetime.now(UTC).date():
        raise InvalidFilterValueError(parameter, f"{parameter} is after today (UTC)")
    return day


async def verification_on(
    request: Request, located: LocatedCertificate, day: date
) -> CertificateVerification | None:
    """The revision's public facts on ``day``, or ``None`` if it was not in
    effect by then."""
    folds: AsOfFolds = request.app.state.container.as_of
    return await run_in_threadpool(_verification_on, folds, located, day)


def _verification_on(
    folds: AsOfFolds, located: LocatedCertificate, day: date
) -> CertificateVerification | None:
    def in_effect(event: EventEnvelope) -> bool:
        effective = effective_on(event)
        return effective is not None and effective <= day

    certificates = folds.fold_all(CertificateProjection(), located.revisions, in_effect)
    issued = [e.time for e in folds.recorded(located.id) if e.type == ISSUED]
    until = max([datetime.combine(day, time.max, UTC), *issued])
    organizations = folds.fold_all(
        OrganizationProjection(), [located.organization_id], lambda e: e.time <= until
    )
    return verification_of(certificates, organizations, located, day)


def verification_of(
    certificates: MemoryRows,
    organizations: MemoryRows,
    located: LocatedCertificate,
    day: date,
) -> CertificateVerification | None:
    """What verification answers from the two projections' rows, on ``day``."""
    row = certificates.get(VERIFICATIONS, (located.tenant_id, located.id))
    if row is None:
        return None
    holder = organizations.get(
        ORGANIZATIONS.name, (located.tenant_id, located.organization_id)
    )
    sites = {s["id"]: s["name"] for s in organizations.rows(SITES.name)}
    later = any(
        r["number"] == row["number"] and r["revision"] > row["revision"]
        for r in certificates.rows(VERIFICATIONS)
    )
    status = status_on(row["status"], row["expiry_date"], day)
    return CertificateVerification(
        number=row["number"],
        status=status,
        holder=None if holder is None else holder["name"],
        standard=row["standard_name"],
        edition=row["standard_edition"],
        scopes=tuple(
            CertifiedScope(sites.get(UUID(s["site_id"])), s["scope"])
            for s in row["sites"]
        ),
        effective_date=row["effective_date"],
        expiry_date=row["expiry_date"],
        revision=row["revision"],
        superseded=later or status == CertificateStatus.SUPERSEDED,
    )


@router.get(
    "/{certificate_id}/verification",
    response_model=CertificateVerificationPublic,
    responses={404: {"description": "Unknown, or not issued by that date"}},
    openapi_extra=recorded("certificate"),
)
async def verify_on_date(
    certificate_id: UUID,
    request: Request,
    principal: Reader,
    on_date: Annotated[
        date | None,
        Query(description="The day to answer for (default: today, UTC)"),
    ] = None,
) -> CertificateVerificationPublic:
    """What public verification answers for this revision on ``on_date``
    (status, holder, scope per site, validity then), without its code: for
    staff of the certificate's tenant."""
    await one(request, principal, CERTIFICATES, certificate_id, "certificate")
    day = past_day(on_date or datetime.now(UTC).date())
    services: ReadServices = request.app.state.read_services
    located = await run_in_threadpool(
        services.verification.revisions, principal.tenant_id, certificate_id
    )
    found = None if located is None else await verification_on(request, located, day)
    if found is None:
        raise NotFoundError("certificate on that date", certificate_id)
    return CertificateVerificationPublic.of(found)
