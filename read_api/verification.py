"""Public certificate verification: the one public, cross-tenant endpoint.

Anyone holding a certificate (a customer, a regulator) can check it with the
number and the verification code printed on it; no login. It is the only
route that reads across tenants, and it answers only what the certificate
itself prints. A form or client sends the code in a POST body; the ``GET``
form with ``number`` and ``code`` in the query is the URL a certificate's QR
code encodes, so that a phone scanning it opens the answer (this service's
request log records the path without the query; the answer is ``no-store``
and sends no referrer). Attempts are limited per client address and per
certificate number, both forms counted together; a wrong code and an unknown
number get the same 404.
Behind a proxy, the client address is the one uvicorn takes from
``X-Forwarded-For`` of the addresses trusted by ``--forwarded-allow-ips``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from commands.http.schemas import StrictBody
from commands.http.text import TextRule
from infra.cache.views import ReadServices
from infra.postgres.verification import CertificateVerification
from read_api.exact_query import refuse_undeclared
from read_api.permissions import PUBLIC
from read_api.problems import CertificateNotVerifiedError, RateLimitedError
from read_api.schemas.rows import examples

router = APIRouter(prefix="/public", tags=["public"])

Number = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_upper=True,
        max_length=30,
        pattern=r"^[A-Za-z0-9]{2,12}-[0-9]{4}-[0-9]{4,8}$",
    ),
    TextRule(),
]
Code = Annotated[
    str,
    StringConstraints(min_length=16, max_length=40, pattern=r"^[A-Za-z0-9 -]+$"),
    TextRule(),
]


class CertificateVerificationCreate(StrictBody):
    """What the certificate prints: its number and verification code."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"number": "ACME-2026-000123", "code": "7K3M9QWX2HFD8TZA4BCE"}]
        },
    )

    number: Number = Field(description="e.g. ACME-2026-000123")
    code: Code = Field(description="As printed; spaces, hyphens and case ignored")


VERIFICATION_EXAMPLE = {
    "number": "ACME-2026-000123",
    "status": "active",
    "holder": "Nordic Valves AB",
    "standard": "ISO 9001",
    "edition": "2015",
    "scopes": [
        {"site": "Gothenburg plant", "scope": "Design and manufacture of valves"}
    ],
    "effective_date": "2026-12-05",
    "expiry_date": "2029-12-04",
    "revision": 1,
    "superseded": False,
}


class CertifiedScopePublic(BaseModel):
    site: str | None = Field(description="The site's name (null if unknown)")
    scope: str


class CertificateVerificationPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(VERIFICATION_EXAMPLE))

    number: str
    status: str = Field(
        description="active, suspended, withdrawn, expired or superseded, today "
        "(UTC); expired from the expiry date on"
    )
    holder: str | None = Field(description="The certified organization's name")
    standard: str
    edition: str
    scopes: list[CertifiedScopePublic]
    effective_date: date
    expiry_date: date
    revision: int
    superseded: bool = Field(description="A later revision of this number exists")

    @classmethod
    def of(cls, found: CertificateVerification) -> CertificateVerificationPublic:
        return cls(
            number=found.number,
            status=found.status,
            holder=found.holder,
            standard=found.standard,
            edition=found.edition,
            scopes=[
                CertifiedScopePublic(site=s.site, scope=s.scope) for s in found.scopes
            ],
            effective_date=found.effective_date,
            expiry_date=found.expiry_date,
            revision=found.revision,
            superseded=found.superseded,
        )


@router.post(
    "/certificate-verifications",
    response_model=CertificateVerificationPublic,
    openapi_extra={"x-permission": PUBLIC},
    responses={404: {"description": "No match"}, 429: {"description": "Too many"}},
)
async def verify_certificate(
    body: CertificateVerificationCreate, request: Request, response: Response
) -> CertificateVerificationPublic:
    """Check a certificate by the number and verification code printed on it
    (no login): its status, holder, standard, scope per site and validity."""
    return await _verify(request, response, body.number, body.code)


@router.get(
    "/certificate-verifications",
    response_model=CertificateVerificationPublic,
    openapi_extra={"x-permission": PUBLIC},
    responses={404: {"description": "No match"}, 429: {"description": "Too many"}},
    dependencies=[Depends(refuse_undeclared)],
)
async def verify_certificate_link(
    number: Annotated[Number, Query(description="e.g. ACME-2026-000123")],
    code: Annotated[Code, Query(description="As printed")],
    request: Request,
    response: Response,
) -> CertificateVerificationPublic:
    """The same check as the POST, as the link a certificate's QR code
    encodes (no login; limited like the POST)."""
    return await _verify(request, response, number, code)


async def _verify(
    request: Request, response: Response, number: str, code: str
) -> CertificateVerificationPublic:
    services: ReadServices = request.app.state.read_services
    address = request.client.host if request.client else "unknown"
    verdict = await run_in_threadpool(
        services.verification_limits.check, address, number
    )
    if not verdict.allowed:
        raise RateLimitedError(verdict.retry_after)
    found = await run_in_threadpool(
        services.verification.verify, number, code, datetime.now(UTC).date()
    )
    if found is None:
        raise CertificateNotVerifiedError
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return CertificateVerificationPublic.of(found)
