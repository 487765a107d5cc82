"""Validated values shared by the aggregates.

Every text a command brings passes :func:`safe_text` before it is folded,
bounded or stored: what an event records must fit a Postgres ``text`` or
``jsonb`` column, a Kafka record, a PDF and an e-mail, whichever entry point
(HTTP, CLI, processor, import) it came through. The HTTP edge applies the
same rule (:func:`unsafe_character`) to every request field and parameter.
"""

from __future__ import annotations

import re
from datetime import date

from domain.errors import InvalidValueError

_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_REFUSED_IN_MULTILINE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"
)
_LINE = "\t\n\r"


def unsafe_character(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be carried everywhere, or ``None`` if it can.

    Refused: U+0000 (Postgres text and jsonb cannot hold it), unpaired
    surrogates U+D800 to U+DFFF (UTF-8 cannot encode them) and the other control
    characters U+0001 to U+001F and U+007F to U+009F, and the noncharacters
    U+FFFE and U+FFFF (XML, and so a DOCX, cannot hold them); tab, line feed
    and carriage return only where ``multiline``.

    Returns:
        What is wrong, naming the first such character and where it is, e.g.
        ``"must not contain U+0000 (NUL), found at character 3"``.
    """
    found = (_REFUSED_IN_MULTILINE if multiline else _REFUSED).search(value)
    if found is None:
        return None
    code = ord(found.group())
    where = f"found at character {found.start() + 1}"
    if found.group() in _LINE:
        return f"must be a single line: no tab or line break (U+{code:04X}), {where}"
    if code == 0:
        what = "U+0000 (NUL)"
    elif 0xD800 <= code <= 0xDFFF:
        what = f"an unpaired surrogate (U+{code:04X})"
    elif code >= 0xFFFE:
        what = f"the noncharacter U+{code:04X}"
    else:
        what = f"the control character U+{code:04X}"
    return f"must not contain {what}, {where}"


def safe_text(value: str, field: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, if :func:`unsafe_character` finds nothing in it.

    Raises:
        InvalidValueError: naming ``field`` and the character.
    """
    problem = unsafe_character(value, multiline=multiline)
    if problem is not None:
        raise InvalidValueError(field, f"{field} {problem}")
    return value


def bounded_text(
    value: str, field: str, maximum: int, *, multiline: bool = False
) -> str:
    """``value`` with white space folded; not blank, at most ``maximum`` chars.

    Args:
        value: The text as given.
        field: Its name, for errors.
        maximum: Most characters after folding.
        multiline: The field is typed in a multi-line box (a reason, a
            description): tabs and line breaks are accepted and folded to
            single spaces like other white space. Otherwise they are refused;
            :func:`bounded_multiline_text` keeps them.

    Raises:
        InvalidValueError: a character :func:`safe_text` refuses, blank or
            too long, naming ``field``.
    """
    text = " ".join(safe_text(value, field, multiline=multiline).split())
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
    lines = (
        " ".join(line.split())
        for line in safe_text(value, field, multiline=True).splitlines()
    )
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    if not text:
        raise InvalidValueError(field, f"{field} must not be blank")
    if len(text) > maximum:
        raise InvalidValueError(field, f"{field} must be at most {maximum} characters")
    return text


def optional_text(
    value: str | None, field: str, maximum: int, *, multiline: bool = False
) -> str | None:
    """Like :func:`bounded_text`, but ``None`` or blank gives ``None``."""
    if value is None or not safe_text(value, field, multiline=multiline).strip():
        return None
    return bounded_text(value, field, maximum, multiline=multiline)


def date_range(start: date, end: date, start_field: str, end_field: str) -> None:
    """Raise unless ``start <= end``, naming the later field."""
    if end < start:
        raise InvalidValueError(
            end_field, f"{end_field} ({end}) must not be before {start_field} ({start})"
        )
