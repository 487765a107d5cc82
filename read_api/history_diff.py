"""What changed: the JSON Patch (RFC 6902) from an audit as one version left
it to the audit as another left it.

Both states are the audit detail as of a version (:mod:`read_api.as_of`),
so the patch speaks the live detail's fields; applying it to the
``from_version`` answer gives the ``to_version`` answer. Scoped as the
detail is: the caller must see the audit today.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python
from typing_extensions import TypeAliasType

from commands.http.edge import requires
from domain.access import Permission
from domain.principal import Principal
from infra.projection.as_of import AtVersion
from projections.audits import AuditProjection
from projections.collections import AUDITS, EVIDENCE
from read_api.access_recording import recorded
from read_api.audits import audit_as_of
from read_api.consistency import min_position, wait_for_projection
from read_api.exact_query import exact_query
from read_api.json_patch import diff
from read_api.resources import one, related
from read_api.schemas.as_of import AS_OF_EXAMPLE, AsOfPublic
from read_api.schemas.rows import examples

router = APIRouter(tags=["history"])

Reader = Annotated[Principal, Depends(exact_query(requires(Permission.AUDIT_READ)))]
MinPosition = Annotated[int | None, Depends(min_position)]
VersionNumber = Annotated[int, Query(ge=1, le=2**31 - 1)]
PatchValue = TypeAliasType(
    "PatchValue",
    "str | int | float | bool | list[PatchValue] | dict[str, PatchValue] | None",
)
"""Any JSON value (what a field of the audit detail holds)."""

DIFF_EXAMPLE = {
    "audit_id": "0f7c2b9a-6d1e-4c3b-8a5f-9e2d1c0b7a64",
    "from_state": {**AS_OF_EXAMPLE, "requested": None},
    "to_state": {**AS_OF_EXAMPLE, "version": 9, "requested": None},
    "patch": [
        {"op": "replace", "path": "/status", "value": "report_drafted"},
        {"op": "replace", "path": "/findings/0/status", "value": "closed"},
    ],
}


class PatchOperationPublic(BaseModel):
    """One RFC 6902 operation (``value`` only with ``add`` and ``replace``)."""

    op: Literal["add", "remove", "replace"]
    path: str = Field(description="JSON Pointer (RFC 6901) into the audit detail")
    value: PatchValue = Field(default=None, description="The new value")


class AuditDiffPublic(BaseModel):
    """The JSON Patch from one version's audit detail to another's."""

    model_config = ConfigDict(json_schema_extra=examples(DIFF_EXAMPLE))

    audit_id: UUID
    from_state: AsOfPublic = Field(description="The state the patch applies to")
    to_state: AsOfPublic = Field(description="The state the patch gives")
    patch: list[PatchOperationPublic] = Field(
        description="RFC 6902 operations, to apply in order"
    )


@router.get(
    "/audits/{audit_id}/history/diff",
    response_model=AuditDiffPublic,
    openapi_extra=recorded("audit"),
)
async def diff_audit(
    audit_id: UUID,
    request: Request,
    principal: Reader,
    from_version: VersionNumber,
    to_version: VersionNumber,
    position: MinPosition,
) -> Response:
    """What changed between two versions of an audit: the JSON Patch (RFC
    6902) that turns ``GET /audits/{id}?as_of_version=from_version`` into
    ``?as_of_version=to_version`` (without their ``as_of`` objects)."""
    await wait_for_projection(request, AuditProjection.name, position)
    await one(request, principal, AUDITS, audit_id, "audit")
    evidence = [
        e["id"]
        for e in await related(request, principal, EVIDENCE, "audit_id", audit_id)
    ]
    states = []
    for version, parameter in (
        (from_version, "from_version"),
        (to_version, "to_version"),
    ):
        state = await audit_as_of(
            request, principal, audit_id, evidence, AtVersion(version), parameter
        )
        states.append(state)
    source, target = (to_jsonable_python(s) for s in states)
    answer = {
        "audit_id": str(audit_id),
        "from_state": source.pop("as_of"),
        "to_state": target.pop("as_of"),
        "patch": diff(source, target),
    }
    return JSONResponse(answer)
