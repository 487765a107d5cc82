"""Validated values shared by the aggregates."""

from __future__ import annotations

import re
from datetime import date

from domain.errors import InvalidValueError


def bounded_text(value: str, field: str, maximum: int) -> str:
    """``value`` with white space folded; not blank, at most ``maximum`` chars.

    Raises:
        InvalidValueError: blank or too long, naming ``field``.
    """
    text = " ".join(value.split())
    if not text:
        raise InvalidValueError(field, f"{field} must not be blank")
    if len(text) > maximum:
        raise InvalidValueError(field, f"{field} must be at most {maximum} characters")
    return text


def bounded_multiline_text(value: str, field: str, maximum: int) -> str:
    """Like :func:`bounded_text`, but keeping line breaks.

    White space is folded within each line, leading and trailing blank lines
    are dropped and runs of blank lines become one.
    """
    lines = (" ".join(line.split()) for line in value.splitlines())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    if not text:
        raise InvalidValueError(field, f"{field} must not be blank")
    if len(text) > maximum:
        raise InvalidValueError(field, f"{field} must be at most {maximum} characters")
    return text


def optional_text(value: str | None, field: str, maximum: int) -> str | None:
    """Like :func:`bounded_text`, but ``None`` or blank gives ``None``."""
    if value is None or not value.strip():
        return None
    return bounded_text(value, field, maximum)


def date_range(start: date, end: date, start_field: str, end_field: str) -> None:
    """Raise unless ``start <= end``, naming the later field."""
    if end < start:
        raise InvalidValueError(
            end_field, f"{end_field} ({end}) must not be before {start_field} ({start})"
        )
