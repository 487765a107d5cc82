"""As it was: the ``as_of`` and ``as_of_version`` query parameters of the
detail routes, and the fold behind their answers.

A detail asked ``as_of=<RFC 3339 time>`` or ``as_of_version=N`` answers the
document the live detail answers, as it would have answered then, plus an
``as_of`` object saying which version and position it reflects. The rows come
from :class:`infra.projection.as_of.AsOfFolds`: the live projection folded
over the events up to that point; the route shapes them with the code that
shapes the live rows. The caller must see the thing today (the live detail's
scope check runs first), so scopes apply exactly as they do live.

Refusals: both parameters, a time without its offset or in the future, or a
version the thing has not reached are ``400`` naming the parameter; a time or
version before the thing existed is ``404``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from domain.errors import NotFoundError
from infra.projection.as_of import (
    AsOfFolds,
    AtTime,
    AtVersion,
    Folded,
    Target,
    VersionNotReachedError,
)
from projections.listing import InvalidFilterValueError
from projections.ports import TableProjection
from read_api.schemas.as_of import AsOfPublic

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$"
)


def _time(value: str) -> datetime:
    if not _RFC3339.match(value):
        raise InvalidFilterValueError(
            "as_of",
            "as_of must be an RFC 3339 time with its offset, e.g. 2026-03-05T00:00:00Z",
        )
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise InvalidFilterValueError("as_of", f"as_of {value!r} is no time") from None
    if moment > datetime.now(UTC):
        raise InvalidFilterValueError("as_of", "as_of is in the future")
    return moment


async def as_of_target(
    as_of: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Answer as the detail was at this RFC 3339 time "
            "(e.g. 2026-03-05T00:00:00Z); 404 before the thing existed",
        ),
    ] = None,
    as_of_version: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**31 - 1,
            description="Answer as the detail was at this version of the thing",
        ),
    ] = None,
) -> Target | None:
    """The moment a detail is asked for, or ``None`` for now.

    Raises:
        InvalidFilterValueError: both given, or a bad or future time.
    """
    if as_of is not None and as_of_version is not None:
        raise InvalidFilterValueError(
            "as_of_version", "give as_of or as_of_version, not both"
        )
    if as_of is not None:
        return AtTime(_time(as_of))
    if as_of_version is not None:
        return AtVersion(as_of_version)
    return None


AsOf = Annotated[Target | None, Depends(as_of_target)]


async def fold(
    request: Request,
    projection: TableProjection,
    kind: str,
    subject: UUID,
    related: Iterable[UUID],
    target: Target,
    parameter: str = "as_of_version",
) -> Folded:
    """``projection``'s rows at ``target`` for ``subject`` and its related
    aggregates.

    Raises:
        NotFoundError: ``subject`` did not exist at ``target``.
        InvalidFilterValueError: a version ``subject`` has not reached.
    """
    folds: AsOfFolds = request.app.state.container.as_of
    try:
        folded = await run_in_threadpool(
            folds.fold, projection, subject, list(related), target
        )
    except VersionNotReachedError as e:
        raise InvalidFilterValueError(
            parameter,
            f"{kind} {subject} has no version {e.version} (newest: {e.newest})",
        ) from e
    if folded is None:
        raise NotFoundError(kind, subject)
    return folded


def stamp(answer: dict[str, Any], folded: Folded, target: Target) -> dict[str, Any]:
    """``answer`` with its ``as_of`` object."""
    moment = folded.moment
    answer["as_of"] = AsOfPublic(
        version=moment.version,
        position=moment.position,
        recorded_at=moment.recorded_at,
        requested=target.time if isinstance(target, AtTime) else None,
        newest_version=folded.newest_version,
    )
    return answer
