"""W3C trace context (``traceparent``) for the work a request starts.

The HTTP edge takes the caller's ``traceparent`` (or starts a trace when there
is none or it is malformed), makes a span of its own in that trace, and
records that span's ``traceparent`` in the metadata of every event the
request causes; the relay publishes it as the CloudEvents distributed-tracing
extension (``ce_traceparent``) and the relay, projectors and processors write
it on their log lines about the event.
"""

from __future__ import annotations

import re
import secrets

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


def trace_id(traceparent: str) -> str:
    """The trace id of a ``traceparent`` ("" when it is not one)."""
    found = _TRACEPARENT.match(traceparent)
    return found.group(1) if found else ""


def server_span(given: str | None) -> str:
    """The ``traceparent`` of a new span in the caller's trace (its flags
    kept), or of a new sampled trace when ``given`` is absent or invalid."""
    found = _TRACEPARENT.match(given or "")
    span = secrets.token_hex(8)
    if found and found.group(1) != _ZERO_TRACE and found.group(2) != _ZERO_SPAN:
        return f"00-{found.group(1)}-{span}-{found.group(3)}"
    return f"00-{secrets.token_hex(16)}-{span}-01"
