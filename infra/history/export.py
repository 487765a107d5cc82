"""History entries as JSON Lines: what ``GET /audit-trail?format=jsonl``
streams and ``assurehub export-history`` writes to a file."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import BinaryIO

from infra.history.query import HistoryQuery
from infra.history.reader import Entry, PostgresHistory, Viewer

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def jsonl(entries: Iterable[Entry]) -> bytes:
    """Entries as JSON Lines (one compact JSON object per line)."""
    return "".join([_encode(e) + "\n" for e in entries]).encode()


def write_trail(
    history: PostgresHistory,
    tenant_id: str,
    query: HistoryQuery,
    viewer: Viewer,
    out: BinaryIO,
) -> int:
    """Write every event of ``tenant_id`` that ``query`` matches to ``out`` as
    JSON Lines, in position order; return how many were written."""
    written = 0
    batches = history.trail_batches(tenant_id, query, viewer)
    try:
        for batch in batches:
            out.write(jsonl(batch))
            written += len(batch)
    finally:
        batches.close()
    return written
