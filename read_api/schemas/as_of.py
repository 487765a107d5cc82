"""The ``as_of`` object of an as-of detail answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from read_api.schemas.rows import examples

AS_OF_EXAMPLE = {
    "version": 7,
    "position": 4420,
    "recorded_at": "2026-03-04T16:12:09.118000+00:00",
    "requested": "2026-03-05T00:00:00+00:00",
    "newest_version": 9,
}


class AsOfPublic(BaseModel):
    """Which state an as-of answer reflects."""

    model_config = ConfigDict(json_schema_extra=examples(AS_OF_EXAMPLE))

    version: int = Field(description="The version of the thing reflected")
    position: int = Field(description="Global position of the newest event folded")
    recorded_at: datetime = Field(description="When that version was recorded")
    requested: datetime | None = Field(
        description="The as_of time asked for (null for as_of_version)"
    )
    newest_version: int = Field(description="The thing's version today")


def as_of_field() -> AsOfPublic | None:
    """The optional ``as_of`` field of a detail model."""
    found: AsOfPublic | None = Field(
        default=None,
        description="Only on answers asked with as_of or as_of_version: the "
        "state they reflect",
    )
    return found
