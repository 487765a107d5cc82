"""Command routes for certificates."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from pydantic import Field

from commands.certificates import (
    CertificateAction,
    IssueCertificate,
    Issued,
    ReviseCertificate,
    SiteScope,
    SuspendCertificate,
    WithdrawCertificate,
)
from commands.context import CommandContext
from commands.http.deps import CertificateServiceDep
from commands.http.edge import (
    ExpectedVersion,
    answer,
    context_for,
)
from commands.http.schemas import CommandAccepted, StrictBody
from commands.http.text import MultilineText, Text
from domain.access import Permission
from domain.certificate import REASON_MAX, STANDARD_EDITION_MAX
from domain.certificate_values import MAX_VALIDITY_YEARS, SCOPE_MAX

router = APIRouter(prefix="/certificates", tags=["certificates"])

SITES_MAX = 500
LATEST_DATE = date(2999, 12, 31)
MAX_SUSPENSION_DAYS = 366 * MAX_VALIDITY_YEARS


class CertifiedSiteCreate(StrictBody):
    """One certified site and the scope certified there."""

    site_id: UUID = Field(description="A site the audit covered")
    scope: MultilineText = Field(
        min_length=1,
        max_length=SCOPE_MAX,
        examples=["Design and manufacture of industrial pumps"],
    )


class _Terms(StrictBody):
    audit_id: UUID = Field(
        description="The audit whose grant decision the certificate rests on"
    )
    site_scopes: list[CertifiedSiteCreate] = Field(min_length=1, max_length=SITES_MAX)
    effective_date: date = Field(
        le=LATEST_DATE,
        description="First day of validity; not before the decision",
        examples=["2026-02-01"],
    )
    expiry_date: date = Field(
        le=LATEST_DATE,
        description=f"First day no longer valid; at most {MAX_VALIDITY_YEARS} "
        "years after the effective date",
        examples=["2029-02-01"],
    )


class CertificateCreate(_Terms):
    """Body of ``POST /certificates``."""


class CertificateRevise(_Terms):
    """Body of ``POST /certificates/{id}/revise`` (renewal or scope change)."""

    audit_id: UUID = Field(
        description="The recertification or special audit the new revision "
        "rests on (its grant decision)"
    )
    standard_edition: Text | None = Field(
        default=None,
        min_length=1,
        max_length=STANDARD_EDITION_MAX,
        description="The audit's edition when omitted",
        examples=["2015"],
    )


class CertificateSuspend(StrictBody):
    """Body of ``POST /certificates/{id}/suspend``."""

    reason: MultilineText = Field(
        min_length=1, max_length=REASON_MAX, examples=["Surveillance audit not held"]
    )
    max_suspension_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_SUSPENSION_DAYS,
        description="Reinstatement allowed up to this many days; 183 when omitted",
    )


class CertificateWithdraw(StrictBody):
    """Body of ``POST /certificates/{id}/withdraw``."""

    reason: MultilineText = Field(
        min_length=1, max_length=REASON_MAX, examples=["Client ceased operations"]
    )


class CertificateIssued(CommandAccepted):
    """The answer to issuing or revising: the new revision and its number."""

    number: str = Field(examples=["ACME-2026-000123"])
    verification_code: str = Field(
        description="Secret printed on the certificate for public verification; "
        "answered only to the issuing command (and its retries)"
    )


Issuer = Annotated[CommandContext, Depends(context_for(Permission.CERTIFICATE_ISSUE))]
Manager = Annotated[CommandContext, Depends(context_for(Permission.CERTIFICATE_MANAGE))]


def _sites(body: _Terms) -> tuple[SiteScope, ...]:
    return tuple(SiteScope(s.site_id, s.scope) for s in body.site_scopes)


def _issued(issued: Issued, response: Response) -> CertificateIssued:
    base = answer(issued, response, location=f"/certificates/{issued.id}")
    return CertificateIssued(
        **base.model_dump(),
        number=issued.number,
        verification_code=issued.verification_code,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CertificateIssued)
def issue_certificate(
    body: CertificateCreate, ctx: Issuer, svc: CertificateServiceDep, response: Response
) -> CertificateIssued:
    """Issue a certificate on an audit's grant decision, dated today.

    The answer carries the certificate's number and its verification code.
    The code is the secret printed on the certificate for the public
    verification page: it is returned here, once, to the issuer (and to a
    retry of this request with its Idempotency-Key), and must not be logged
    or shown to anyone but the certificate's holder.
    """
    command = IssueCertificate(
        body.audit_id, _sites(body), body.effective_date, body.expiry_date
    )
    return _issued(svc.issue(ctx, command), response)


@router.post(
    "/{certificate_id}/revise",
    status_code=status.HTTP_201_CREATED,
    response_model=CertificateIssued,
)
def revise_certificate(
    certificate_id: UUID,
    body: CertificateRevise,
    ctx: Issuer,
    svc: CertificateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CertificateIssued:
    """Renew the certificate or change its scope: issue its next revision.

    The new revision keeps the number, gets a new verification code and
    supersedes this one (which stays readable). The answer, ``Location`` and
    ``ETag`` are the new revision's; ``If-Match`` names this one's version.
    The verification code is a secret returned once, as for issuing.
    """
    command = ReviseCertificate(
        certificate_id,
        body.audit_id,
        _sites(body),
        body.effective_date,
        body.expiry_date,
        body.standard_edition,
        version,
    )
    return _issued(svc.revise(ctx, command), response)


@router.post("/{certificate_id}/suspend", response_model=CommandAccepted)
def suspend_certificate(
    certificate_id: UUID,
    body: CertificateSuspend,
    ctx: Manager,
    svc: CertificateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Suspend the active certificate from today."""
    command = SuspendCertificate(
        certificate_id,
        body.reason,
        body.max_suspension_days,
        version,
    )
    return answer(svc.suspend(ctx, command), response)


@router.post("/{certificate_id}/reinstate", response_model=CommandAccepted)
def reinstate_certificate(
    certificate_id: UUID,
    ctx: Manager,
    svc: CertificateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Lift the certificate's suspension from today."""
    command = CertificateAction(certificate_id, version)
    return answer(svc.reinstate(ctx, command), response)


@router.post("/{certificate_id}/withdraw", response_model=CommandAccepted)
def withdraw_certificate(
    certificate_id: UUID,
    body: CertificateWithdraw,
    ctx: Manager,
    svc: CertificateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Withdraw the certificate from today; this cannot be undone."""
    command = WithdrawCertificate(certificate_id, body.reason, version)
    return answer(svc.withdraw(ctx, command), response)


@router.post("/{certificate_id}/expire", response_model=CommandAccepted)
def expire_certificate(
    certificate_id: UUID,
    ctx: Manager,
    svc: CertificateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Record that the certificate has reached its expiry date."""
    command = CertificateAction(certificate_id, version)
    return answer(svc.expire(ctx, command), response)
