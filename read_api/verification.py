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
from pydantic import ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from commands.http.schemas import StrictBody
from commands.http.text import TextRule
from infra.cache.views import ReadServices
from read_api.exact_query import refuse_undeclared
from read_api.permissions import PUBLIC
from read_api.problems import CertificateNotVerifiedError, RateLimitedError
from read_api.schemas.verification import CertificateVerificationPublic
from read_api.verification_on_date import past_day, verification_on

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
    on_date: date | None = Field(
        default=None,
        description="Answer as the certificate stood at the end of this day "
        "(UTC), not today; not after today",
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
    return await _verify(request, response, body.number, body.code, body.on_date)


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
    request: Request,
    response: Response,
    number: str,
    code: str,
    on_date: date | None = None,
) -> CertificateVerificationPublic:
    services: ReadServices = request.app.state.read_services
    address = request.client.host if request.client else "unknown"
    day = None if on_date is None else past_day(on_date)
    verdict = await run_in_threadpool(
        services.verification_limits.check, address, number
    )
    if not verdict.allowed:
        raise RateLimitedError(verdict.retry_after)
    if day is not None:
        located = await run_in_threadpool(services.verification.locate, number, code)
        found = (
            None if located is None else await verification_on(request, located, day)
        )
    else:
        found = await run_in_threadpool(
            services.verification.verify, number, code, datetime.now(UTC).date()
        )
    if found is None:
        raise CertificateNotVerifiedError
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return CertificateVerificationPublic.of(found)
