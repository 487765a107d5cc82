"""JSON Patch (RFC 6902) documents that turn one JSON value into another.

:func:`diff` compares two JSON values (as ``json.loads`` makes them) and
answers the operations ``add``, ``remove`` and ``replace`` that, applied in
order by any RFC 6902 implementation, turn the first into the second. Objects
are compared key by key and arrays index by index (items past the shorter
array's end are removed from the last or added at the end), so a change deep
in a document is one operation at its JSON Pointer (RFC 6901), not a new
copy of the document.
"""

from __future__ import annotations

import json
from typing import Any


def pointer(tokens: list[str]) -> str:
    """The JSON Pointer of ``tokens`` (``~`` and ``/`` escaped)."""
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


def _same(a: Any, b: Any) -> bool:
    # JSON equality, where 1, 1.0 and true are three different values
    if type(a) is not type(b):
        return False
    if isinstance(a, dict | list):
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    return bool(a == b)


def diff(source: Any, target: Any) -> list[dict[str, Any]]:
    """The operations that turn ``source`` into ``target``."""
    operations: list[dict[str, Any]] = []
    _diff(source, target, [], operations)
    return operations


def _diff(a: Any, b: Any, at: list[str], out: list[dict[str, Any]]) -> None:
    if _same(a, b):
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a:
            if key not in b:
                out.append({"op": "remove", "path": pointer([*at, key])})
        for key, value in b.items():
            if key in a:
                _diff(a[key], value, [*at, key], out)
            else:
                out.append({"op": "add", "path": pointer([*at, key]), "value": value})
        return
    if isinstance(a, list) and isinstance(b, list):
        common = min(len(a), len(b))
        for i in range(common):
            _diff(a[i], b[i], [*at, str(i)], out)
        for i in range(len(a) - 1, common - 1, -1):
            out.append({"op": "remove", "path": pointer([*at, str(i)])})
        for i in range(common, len(b)):
            out.append({"op": "add", "path": pointer([*at, str(i)]), "value": b[i]})
        return
    out.append({"op": "replace", "path": pointer(at), "value": b})
