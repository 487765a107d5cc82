"""History entries as compact JSON: one entry, a page of them, JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson

Entry = dict[str, Any]
"""One event of a history, as a reader answers it."""
LINE = orjson.OPT_APPEND_NEWLINE
"""``entry_json`` option: end the JSON with a newline."""
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def entry_json(entry: Entry, option: int = 0) -> bytes:
    """One entry as compact UTF-8 JSON (by orjson; by the standard encoder
    for what orjson does not write, such as integers beyond 64 bits)."""
    try:
        return orjson.dumps(entry, option=option)
    except TypeError:
        text = _encode(entry) + ("\n" if option & LINE else "")
        return text.encode()


def jsonl(entries: Iterable[Entry]) -> bytes:
    """Entries as JSON Lines (one compact JSON object per line)."""
    return b"".join([entry_json(e, LINE) for e in entries])


def json_page(entries: Iterable[Entry], next_cursor: str | None) -> bytes:
    """A page of entries as the JSON object ``{"items", "next_cursor"}``."""
    items = b",".join([entry_json(e) for e in entries])
    return b'{"items":[%b],"next_cursor":%b}' % (items, orjson.dumps(next_cursor))
