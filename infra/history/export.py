"""The tenant's trail as JSON Lines: what ``GET /audit-trail?format=jsonl``
streams and ``assurehub export-history`` writes to a file."""

from __future__ import annotations

from typing import BinaryIO

from infra.history.query import HistoryQuery
from infra.history.reader import PostgresHistory, Viewer


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
    lines = history.trail_lines(tenant_id, query, viewer)
    try:
        for batch in lines:
            out.write(batch)
            written += batch.count(b"\n")
    finally:
        lines.close()
    return written
