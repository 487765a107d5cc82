"""A setting the ``assurehub`` command needs that is missing or does not fit
ends the command with one line naming the variable, on stderr, and exit
status 2 (no traceback: the operator has nothing to debug, only a setting
to set).

Two kinds reach it: what the settings refuse when they are read (pydantic's
validation of each ``ASSUREHUB_*`` variable) and :class:`SettingError`,
raised where a key is needed (identity's keys, the event log's signing keys,
the person key wrapping keys: required outside development, or not holding
the key stored data was sealed with).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pydantic import ValidationError

from infra.errors import SettingError

EXIT_SETTING = 2


def refusing_bad_settings(command: str, run: Callable[[], int]) -> int:
    """``run()``, or the one-line refusal and 2 if a setting stops it."""
    try:
        return run()
    except SettingError as e:
        line = str(e)
    except ValidationError as e:
        line = "; ".join(_named(error) for error in e.errors())
    print(f"assurehub {command}: {line}", file=sys.stderr)
    return EXIT_SETTING


def _named(error: object) -> str:
    """A settings error as ``ASSUREHUB_X: message``."""
    assert isinstance(error, dict)
    location = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    message = str(error.get("msg", "invalid"))
    if not location:
        return message.removeprefix("Value error, ")
    return f"ASSUREHUB_{location[0].upper()}: {message.removeprefix('Value error, ')}"
