"""Text at the edge: one rule for every request field and parameter.

Every text a request brings (body fields, path and query parameters) is
checked by :func:`domain.values.unsafe_character` before anything else reads
it: U+0000, unpaired surrogates and control characters are a ``422`` naming
the field, and so are tab and line breaks outside multi-line fields. The
domain's values refuse the same, so the edge only answers earlier and more
precisely; identifying headers (``Idempotency-Key``, ``If-Match``,
``X-Request-ID``, the development ``X-Dev-*``) have ASCII patterns of their
own.

White space: :data:`Text` and :data:`MultilineText` are stripped at both ends
*after* the check (a trailing line break in a single-line field is refused,
not stripped); :data:`Secret` (passwords, tokens, codes) is taken as typed.

The OpenAPI shows each such field as a string whose ``pattern`` excludes the
refused characters (unless the field has a stricter pattern of its own), so a
schema-driven client or fuzzer draws from the same alphabet the API accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi.exceptions import RequestValidationError
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from domain.values import unsafe_character

SINGLE_LINE_PATTERN = r"^[^\x00-\x1F\x7F-\x9F\uFFFE\uFFFF]*$"
"""What a single-line field admits, as the OpenAPI states it."""
MULTILINE_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\uFFFE\uFFFF]*$"
"""What a multi-line field admits: tab, line feed and carriage return too."""
ERROR_TYPE = "unsafe_character"
"""The ``type`` of the ``422``'s error entry for such a field."""


@dataclass(frozen=True)
class TextRule:
    """Pydantic metadata applying :func:`~domain.values.unsafe_character` to
    a string before its other constraints, and stating it in the schema.

    Attributes:
        multiline: Tab, line feed and carriage return are accepted.
    """

    multiline: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_before_validator_function(
            self._check, handler(source)
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        pattern = MULTILINE_PATTERN if self.multiline else SINGLE_LINE_PATTERN
        json_schema.setdefault("pattern", pattern)
        return json_schema

    def _check(self, value: object) -> object:
        if isinstance(value, str):
            problem = unsafe_character(value, multiline=self.multiline)
            if problem is not None:
                raise PydanticCustomError(ERROR_TYPE, problem)
        return value


Text = Annotated[str, StringConstraints(strip_whitespace=True), TextRule()]
"""A single line of text: names, titles, codes, e-mail addresses, ids."""
MultilineText = Annotated[
    str, StringConstraints(strip_whitespace=True), TextRule(multiline=True)
]
"""Text typed in a multi-line box: reasons, descriptions, comments, clauses."""
Secret = Annotated[str, TextRule()]
"""A password, token or code: a single line, not stripped."""


def checked_parameter(value: str, name: str, location: str = "query") -> str:
    """``value`` of the parameter ``name``, if it is a single line of text.

    For parameters read outside FastAPI's own parsing (a listing's filters).

    Raises:
        RequestValidationError: the ``422`` naming ``name`` that a declared
            :data:`Text` parameter would give.
    """
    problem = unsafe_character(value)
    if problem is not None:
        error = {"loc": (location, name), "msg": problem, "type": ERROR_TYPE}
        raise RequestValidationError([error])
    return value
