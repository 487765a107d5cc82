"""What every answer built from read-model rows shares: the version and
position stamped on each row, and the page a list answers."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field

Version = Annotated[
    int,
    Field(
        description="Version of the aggregate after the last event applied to "
        "the row; on an aggregate's own record, send it back as If-Match"
    ),
]
Position = Annotated[
    int,
    Field(
        description="Store position of the last event applied to the row (what "
        "min_position waits for)"
    ),
]

Row = TypeVar("Row", bound=BaseModel)

NEXT_CURSOR_EXAMPLE = "eyJrIjpbIjIwMjYtMDMtMDIiXX0.4f2a9c"


class Page(BaseModel, Generic[Row]):
    """One page of a list, in the requested order."""

    items: list[Row] = Field(description="The page's rows")
    next_cursor: str | None = Field(
        description="Send as `cursor` (with the same filters and sort) for the "
        "next page; null on the last page"
    )


def examples(*values: dict[str, Any]) -> dict[str, Any]:
    """``json_schema_extra`` that shows ``values`` as the model's examples."""
    return {"examples": list(values)}


def page_examples(item: dict[str, Any]) -> dict[str, Any]:
    """``json_schema_extra`` of a page holding ``item``."""
    return examples({"items": [item], "next_cursor": NEXT_CURSOR_EXAMPLE})
