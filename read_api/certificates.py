"""Query routes for the certificate registry."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python

from commands.http.edge import requires
from domain.access import Permission
from domain.errors import NotFoundError
from domain.principal import Principal
from projections.certificates import CertificateProjection
from projections.collections import CERTIFICATES
from projections.memory_listing import listed
from projections.rows import MemoryRows, Row
from read_api.as_of import AsOf, fold, stamp
from read_api.consistency import min_position, wait_for_projection
from read_api.exact_query import exact_query
from read_api.listing import list_response, listing_openapi
from read_api.resources import one, related, tag
from read_api.schemas.certificates import (
    CertificateDetail,
    CertificatePage,
    CertificateRevisionPublic,
)

router = APIRouter(prefix="/certificates", tags=["certificates"])

PROJECTION = CertificateProjection.name
PROJECTION_CODE = CertificateProjection()

Reader = Annotated[Principal, Depends(requires(Permission.CERTIFICATE_READ))]
DetailReader = Annotated[
    Principal, Depends(exact_query(requires(Permission.CERTIFICATE_READ)))
]
MinPosition = Annotated[int | None, Depends(min_position)]


@router.get(
    "", response_model=CertificatePage, openapi_extra=listing_openapi(CERTIFICATES)
)
async def list_certificates(
    request: Request, principal: Reader, position: MinPosition
) -> Response:
    """The certificate registry of the caller's tenant and scopes, one row per
    revision (``status=superseded`` for the replaced ones)."""
    return await list_response(request, principal, CERTIFICATES, position)


@router.get(
    "/{certificate_id}",
    response_model=CertificateDetail,
    responses={"200": {"description": "The revision, with its ETag"}},
)
async def get_certificate(
    certificate_id: UUID,
    request: Request,
    principal: DetailReader,
    position: MinPosition,
    as_of: AsOf,
) -> Response:
    """One certificate revision and its revision chain (every revision of the
    same number, oldest first). Its ETag is the version to send as If-Match.
    With ``as_of`` or ``as_of_version``: the same document as it was then
    (revisions issued later left out), with an ``as_of`` object (no ETag)."""
    await wait_for_projection(request, PROJECTION, position)
    certificate = await one(
        request, principal, CERTIFICATES, certificate_id, "certificate"
    )
    chain = await related(
        request, principal, CERTIFICATES, "number", certificate["number"]
    )
    if as_of is not None:
        others = [r["id"] for r in chain if r["id"] != certificate_id]
        folded = await fold(
            request, PROJECTION_CODE, "certificate", certificate_id, others, as_of
        )
        then = certificate_detail_of(principal, folded.rows, certificate_id)
        if then is None:
            raise NotFoundError("certificate", certificate_id)
        answer = stamp(then, folded, as_of)
        return JSONResponse(to_jsonable_python(answer))
    response = JSONResponse(to_jsonable_python(certificate_detail(certificate, chain)))
    tag(response, certificate["version"])
    return response


def certificate_detail(certificate: Row, chain: list[Row]) -> Row:
    """The detail of one revision from its row and its number's rows."""
    return {
        **certificate,
        "revisions": [_link(r) for r in sorted(chain, key=_revision)],
    }


def certificate_detail_of(
    principal: Principal, rows: MemoryRows, certificate_id: UUID
) -> Row | None:
    """The detail of one revision read from the certificates projection's
    rows in memory, as the live detail reads them from the read model
    (``None``: no such revision in the caller's scopes)."""
    table = list(rows.rows(CERTIFICATES.table.name))
    found = listed(principal, CERTIFICATES, table, {"id": certificate_id})
    if not found:
        return None
    chain = listed(principal, CERTIFICATES, table, {"number": found[0]["number"]})
    return certificate_detail(found[0], chain)


def _revision(row: Row) -> int:
    return int(row["revision"])


def _link(row: Row) -> Row:
    return {name: row[name] for name in CertificateRevisionPublic.model_fields}
