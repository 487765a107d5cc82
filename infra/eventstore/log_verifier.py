"""The event log's hash chain, its signed checkpoints, and the offline verifier.

This module needs only the standard library and ``cryptography``: an auditor
copies this one file and runs ``python log_verifier.py EXPORT --keys KEYS``
with no database, no network and no AssureHub settings. The application
imports the same functions (:func:`event_hash`, :func:`checkpoint_message`),
so what is written at append time and what is checked here are one code.

Canonical form (version 1), byte for byte. ``field(b)`` is the length of
``b`` as a 4-byte unsigned big-endian integer followed by ``b``::

    canonical = field(b"assurehub-event-log/1")
             || field(previous hash)   32 raw bytes; 32 zero bytes for the
                                       tenant's first event
             || field(position)        ASCII decimal, no sign or leading zeros
             || field(tenant id)       UTF-8
             || field(aggregate id)    ASCII, lowercase hyphenated UUID
             || field(version)         ASCII decimal
             || field(type)            UTF-8, the stored event topic
             || field(recorded time)   ASCII, UTC: YYYY-MM-DDTHH:MM:SS.ffffffZ
             || field(payload)         the stored payload bytes, as stored
             || field(metadata)        for each metadata key in byte order:
                                       field(UTF-8 key) || field(UTF-8 value)
    hash = SHA-256(canonical)

One chain per tenant: the previous hash is that of the same tenant's event
before it. A checkpoint signs, with Ed25519, the message::

    field(b"assurehub-event-log-checkpoint/1") || field(tenant id)
    || field(position) || field(chain head: the 32-byte hash at position)

Export format (JSON Lines, one object per line, ``kind`` says which):
``log`` (first: tenant, range, ``previous_hash`` before the range), ``key``
(published public keys, for reference: trust comes from ``--keys``),
``event`` (the fields above; ``payload`` base64; ``previous_hash`` and
``hash`` hex, as stored; ``payload`` null when the stored row is gone) and
``checkpoint`` (placed right after the event at its position).

The verifier reports ``ok`` with the range and the checkpoints verified, or
the first bad position and what is wrong there (:class:`Problem`).
:func:`verify` walks lines one by one; :func:`verify_file` checks a file's
chunks in worker processes and gives the same report (see ``_check_chunk``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import stat
import struct
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "assurehub-event-log/1"
CHECKPOINT_FORMAT = "assurehub-event-log-checkpoint/1"
GENESIS = bytes(32)
"""The previous hash of a tenant's first event."""
_TAG = len(FORMAT).to_bytes(4, "big") + FORMAT.encode()
_CHECKPOINT_TAG = len(CHECKPOINT_FORMAT).to_bytes(4, "big") + CHECKPOINT_FORMAT.encode()
_WINDOW = 1000
"""Events kept behind and read ahead to say what went wrong at a break."""


_LENGTH = struct.Struct(">I").pack


def _field(value: bytes) -> bytes:
    return _LENGTH(len(value)) + value


def metadata_bytes(meta: Mapping[str, str]) -> bytes:
    """The metadata's canonical bytes: its keys in byte order (which for
    UTF-8 is code point order), each key then its value as a field."""
    parts: list[bytes] = []
    for key in sorted(meta):
        k, v = key.encode(), meta[key].encode()
        parts += (_LENGTH(len(k)), k, _LENGTH(len(v)), v)
    return b"".join(parts)


def event_hash(
    previous: bytes,
    position: int,
    tenant_id: str,
    aggregate_id: str,
    version: int,
    type_: str,
    recorded_at: str,
    payload: bytes,
    meta: Mapping[str, str],
) -> bytes:
    """SHA-256 of the event's canonical form (see the module docstring)."""
    return tail_hash(
        previous,
        position,
        event_tail(tenant_id, aggregate_id, version, type_, recorded_at, payload, meta),
    )


def event_tail(
    tenant_id: str,
    aggregate_id: str,
    version: int,
    type_: str,
    recorded_at: str,
    payload: bytes,
    meta: Mapping[str, str],
) -> bytes:
    """The canonical form's fields after the position (tenant id to metadata),
    which are known before the event's position and previous hash are: the
    appender makes them before it takes the events table's lock."""
    return _tail(
        tenant_id.encode(),
        aggregate_id.encode(),
        b"%d" % version,
        type_.encode(),
        recorded_at.encode(),
        payload,
        metadata_bytes(meta),
    )


def _tail(
    t: bytes, a: bytes, v: bytes, k: bytes, r: bytes, payload: bytes, m: bytes
) -> bytes:
    n = _LENGTH
    return b"".join(
        (
            n(len(t)),
            t,
            n(len(a)),
            a,
            n(len(v)),
            v,
            n(len(k)),
            k,
            n(len(r)),
            r,
            n(len(payload)),
            payload,
            n(len(m)),
            m,
        )
    )


def tail_hash(previous: bytes, position: int, tail: bytes) -> bytes:
    """:func:`event_hash` of the event whose :func:`event_tail` is ``tail``."""
    return _head_hash(previous, b"%d" % position, tail)


def _head_hash(previous: bytes, p: bytes, tail: bytes) -> bytes:
    n = _LENGTH
    return hashlib.sha256(
        b"".join((_TAG, n(len(previous)), previous, n(len(p)), p, tail))
    ).digest()


def _digest(
    previous: bytes,
    p: bytes,
    t: bytes,
    a: bytes,
    v: bytes,
    k: bytes,
    r: bytes,
    payload: bytes,
    m: bytes,
) -> bytes:
    """SHA-256 of the canonical form of fields already in their bytes."""
    return _head_hash(previous, p, _tail(t, a, v, k, r, payload, m))


def checkpoint_message(tenant_id: str, position: int, head: bytes) -> bytes:
    """The bytes a checkpoint's Ed25519 signature covers."""
    return (
        _CHECKPOINT_TAG
        + _field(tenant_id.encode())
        + _field(str(position).encode())
        + _field(head)
    )


class Problem(Enum):
    """What is wrong at the first bad position."""

    PAYLOAD_ALTERED = "payload altered"
    EVENT_MISSING = "event missing"
    EVENT_INSERTED = "event inserted"
    ORDER_CHANGED = "order changed"
    SIGNATURE_INVALID = "signature invalid"
    CHECKPOINT_MISMATCH = "chain head differs from the signed checkpoint"
    NOT_COVERED = "chain not covered by a checkpoint"
    MALFORMED = "export malformed"


@dataclass(frozen=True)
class Report:
    """The verifier's answer: ``ok``, or the first bad position and why."""

    ok: bool
    tenant_id: str = ""
    first_position: int | None = None
    last_position: int | None = None
    events: int = 0
    checkpoints: int = 0
    problem: Problem | None = None
    position: int | None = None
    detail: str = ""
    head: str = ""
    """The chain head (hex) after the last verified event."""

    def text(self) -> str:
        """One line for people."""
        if self.ok:
            return (
                f"ok: tenant {self.tenant_id}, positions {self.first_position}"
                f"..{self.last_position}, {self.events} events, "
                f"{self.checkpoints} checkpoints verified"
            )
        assert self.problem is not None
        return f"bad at position {self.position}: {self.problem.value}: {self.detail}"


class _BadPositionError(Exception):
    def __init__(self, problem: Problem, position: int | None, detail: str) -> None:
        super().__init__(detail)
        self.problem, self.position, self.detail = problem, position, detail


@dataclass
class _Event:
    position: int
    line: dict[str, Any]
    previous: str
    hash: str


def public_keys(document: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """Public keys by id from the published keys document
    (``{"keys": [{"key_id", "algorithm", "public_key"}]}``, keys base64)."""
    keys = {}
    for entry in document.get("keys", []):
        if entry.get("algorithm") != "Ed25519":
            continue
        raw = base64.b64decode(entry["public_key"])
        keys[str(entry["key_id"])] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


def _content_hash(
    line: Mapping[str, Any],
    previous: str,
    position: int,
    recorded_at: str | None = None,
) -> str:
    return event_hash(
        bytes.fromhex(previous),
        position,
        line["tenant_id"],
        line["aggregate_id"],
        line["version"],
        line["type"],
        recorded_at or line["recorded_at"],
        base64.b64decode(line["payload"]),
        line["meta"],
    ).hex()


@dataclass
class _Walk:
    """The verifier's state while it reads an export."""

    keys: Mapping[str, Ed25519PublicKey]
    allow_uncovered_tail: bool
    tenant_id: str = ""
    head: str = GENESIS.hex()
    first: int | None = None
    last: int | None = None
    events: int = 0
    checkpoints: int = 0
    covered_to: int | None = None
    behind: deque[_Event] = field(default_factory=lambda: deque(maxlen=_WINDOW))

    def start(self, line: Mapping[str, Any]) -> None:
        if line.get("kind") != "log" or line.get("format") != FORMAT:
            raise _BadPositionError(
                Problem.MALFORMED, None, f"the first line is not a {FORMAT} log"
            )
        self.tenant_id = str(line["tenant_id"])
        self.head = str(line["previous_hash"])
        self.covered_to = line.get("from_position", 1) - 1

    def event(self, line: dict[str, Any], ahead: Iterator[dict[str, Any]]) -> None:
        position = int(line["position"])
        if line["tenant_id"] != self.tenant_id:
            raise _BadPositionError(
                Problem.EVENT_INSERTED, position, "another tenant's event"
            )
        if line.get("payload") is None:
            raise _BadPositionError(
                Problem.EVENT_MISSING, position, "its stored row is gone"
            )
        if self.last is not None and position <= self.last:
            raise _BadPositionError(
                Problem.ORDER_CHANGED, position, f"follows {self.last}"
            )
        previous, stored = line["previous_hash"], line["hash"]
        if _content_hash(line, previous, position) != stored:
            raise self._altered(line, position, ahead)
        if previous != self.head:
            raise self._broken(position, previous, ahead)
        self.head = stored
        self.behind.append(_Event(position, line, previous, stored))
        self.first = position if self.first is None else self.first
        self.last = position
        self.events += 1

    def _altered(
        self, line: dict[str, Any], position: int, ahead: Iterator[dict[str, Any]]
    ) -> _BadPositionError:
        """The stored hash does not match the content: moved or changed."""
        for other in [*self.behind, *_events(ahead)]:
            # the position, its link and its recorded time stay where they were
            at = other.line["recorded_at"]
            if _content_hash(line, other.previous, other.position, at) == other.hash:
                return _BadPositionError(
                    Problem.ORDER_CHANGED,
                    position,
                    f"holds the event chained at position {other.position}",
                )
        return _BadPositionError(
            Problem.PAYLOAD_ALTERED, position, "its content does not match its hash"
        )

    def _broken(
        self, position: int, previous: str, ahead: Iterator[dict[str, Any]]
    ) -> _BadPositionError:
        """The event is intact but does not follow the one before it."""
        behind = list(self.behind)
        for i, earlier in enumerate(behind):
            if earlier.hash == previous:
                first_extra = behind[i + 1].position if i + 1 < len(behind) else None
                return _BadPositionError(
                    Problem.EVENT_INSERTED,
                    first_extra,
                    f"not in the chain: position {position} follows {earlier.position}",
                )
        for later in _events(ahead):
            if later.hash == previous:
                return _BadPositionError(
                    Problem.ORDER_CHANGED,
                    position,
                    f"follows position {later.position}, which comes after it",
                )
        return _BadPositionError(
            Problem.EVENT_MISSING,
            position,
            "the event chained before it is not in the log",
        )

    def checkpoint(self, line: Mapping[str, Any]) -> None:
        position = int(line["position"])
        head = str(line["head"])
        key = self.keys.get(str(line["key_id"]))
        if key is None:
            raise _BadPositionError(
                Problem.SIGNATURE_INVALID, position, f"unknown key {line['key_id']}"
            )
        try:
            key.verify(
                base64.b64decode(line["signature"]),
                checkpoint_message(
                    str(line["tenant_id"]), position, bytes.fromhex(head)
                ),
            )
        except InvalidSignature:
            raise _BadPositionError(
                Problem.SIGNATURE_INVALID, position, f"key {line['key_id']}"
            ) from None
        if line["tenant_id"] != self.tenant_id:
            raise _BadPositionError(
                Problem.MALFORMED, position, "another tenant's checkpoint"
            )
        if position != self.last:
            raise _BadPositionError(
                Problem.EVENT_MISSING,
                position,
                f"the checkpoint's event is not in the log (last is {self.last})",
            )
        if head != self.head:
            raise _BadPositionError(
                Problem.CHECKPOINT_MISMATCH,
                position,
                "events up to here were altered, inserted or removed since the "
                "previous checkpoint",
            )
        self.checkpoints += 1
        self.covered_to = position

    def finish(self) -> Report:
        if (
            not self.allow_uncovered_tail
            and self.last is not None
            and (self.covered_to is None or self.covered_to < self.last)
        ):
            uncovered = [
                e.position for e in self.behind if e.position > (self.covered_to or 0)
            ]
            raise _BadPositionError(
                Problem.NOT_COVERED,
                uncovered[0] if uncovered else self.last,
                f"no signed checkpoint after position {self.covered_to}",
            )
        return Report(
            True,
            self.tenant_id,
            self.first,
            self.last,
            self.events,
            self.checkpoints,
            head=self.head,
        )


def _events(lines: Iterator[dict[str, Any]]) -> list[_Event]:
    """Up to a window of the events still to come (for a diagnosis only)."""
    found = []
    for line in lines:
        if line.get("kind") == "event" and line.get("payload") is not None:
            position = int(line["position"])
            found.append(_Event(position, line, line["previous_hash"], line["hash"]))
        if len(found) >= _WINDOW:
            break
    return found


def verify(
    lines: Iterable[str | bytes | dict[str, Any]],
    keys: Mapping[str, Ed25519PublicKey],
    *,
    allow_uncovered_tail: bool = False,
) -> Report:
    """Verify an export read line by line (or as already parsed objects).

    ``allow_uncovered_tail`` accepts events after the last checkpoint (the
    live check: the newest events are signed at the next checkpoint).
    """
    walk = _Walk(keys, allow_uncovered_tail)
    parsed = (line if isinstance(line, dict) else json.loads(line) for line in lines)
    return _run(walk, parsed, start=True)


def _run(walk: _Walk, parsed: Iterator[dict[str, Any]], *, start: bool) -> Report:
    """Walk the lines one by one (after the ``log`` line if ``start``)."""
    try:
        if start:
            walk.start(next(parsed, {}))
        for line in parsed:
            kind = line.get("kind")
            if kind == "event":
                walk.event(line, parsed)
            elif kind == "checkpoint":
                walk.checkpoint(line)
        return walk.finish()
    except _BadPositionError as bad:
        return _failed(walk, bad)
    except (KeyError, TypeError, ValueError) as e:
        return _failed(walk, _BadPositionError(Problem.MALFORMED, walk.last, repr(e)))


def _failed(walk: _Walk, bad: _BadPositionError) -> Report:
    return Report(
        False,
        walk.tenant_id,
        walk.first,
        walk.last,
        walk.events,
        walk.checkpoints,
        bad.problem,
        bad.position,
        bad.detail,
    )


# The fast path over a file: chunks of lines checked in parallel processes.
#
# A worker checks, within its chunk, what depends only on the chunk's own
# lines: each event's content against its stored hash, the tenant, and that
# each event follows the one before it in the chunk (position and link). The
# parent links the chunks, and checks the checkpoints' signatures in order.
# Lines in the exporter's layout are read by one pattern instead of a JSON
# parser; the pattern admits only JSON that ``json.loads`` reads to the same
# values (strings without escapes or control characters, plain integers,
# lowercase hex hashes), so the bytes it captures are the canonical form's.
# Anything else (another layout, a break of any kind) stops the fast path:
# :func:`verify_file` then walks on with :func:`verify`'s own code from a
# point at least a window of events before the chunk where it stopped, in the
# state the fast path had there, so the verdict and its diagnosis are those
# of the line-by-line walk, byte for byte.

_CHUNK_BYTES = 4 << 20
_STRING = rb'"([^"\\\x00-\x1f]*)"'
_PAIR = rb'"[^"\\\x00-\x1f]*": ?"[^"\\\x00-\x1f]*"'
_EVENT_FIELDS = (
    (b"kind", b'"event"'),
    (b"position", rb"(0|[1-9][0-9]*)"),
    (b"tenant_id", _STRING),
    (b"aggregate_id", _STRING),
    (b"version", rb"(0|[1-9][0-9]*)"),
    (b"type", _STRING),
    (b"recorded_at", _STRING),
    (b"payload", rb'"([A-Za-z0-9+/]*={0,2})"'),
    (b"meta", rb"\{((?:" + _PAIR + rb"(?:, ?" + _PAIR + rb")*)?)\}"),
    (b"previous_hash", rb'"([0-9a-f]{64})"'),
    (b"hash", rb'"([0-9a-f]{64})"'),
)
_EVENT_LINE = re.compile(
    rb"\{"
    + rb", ?".join(b'"' + name + b'": ?' + value for name, value in _EVENT_FIELDS)
    + rb"\}[ \t\r]*"
).fullmatch
_META_PAIRS = re.compile(rb'"([^"\\\x00-\x1f]*)": ?"([^"\\\x00-\x1f]*)"').findall

_Checkpoint = tuple[int, int, bytes, dict[str, Any]]
"""Events of the chunk before it, the last one's position and hash, the line."""
_Chunk = tuple[int, int, bytes, int, bytes, list[_Checkpoint], bool]
"""Events checked; the first's position and previous hash; the last's
position and hash; the checkpoints; whether the fast path stopped in it."""


def _check_chunk(path: str, start: int, end: int, tenant: bytes) -> _Chunk:
    """Check the lines in bytes ``start..end`` of the export (see above)."""
    with open(path, "rb") as f:
        f.seek(start)
        lines = f.read(end - start).split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    n, first, first_previous, last, head = 0, 0, b"", 0, b""
    checkpoints: list[_Checkpoint] = []
    unhex, match, digest = binascii.unhexlify, _EVENT_LINE, _digest
    for line in lines:
        found = match(line)
        if found is None:
            try:
                other = json.loads(line)
                kind = other.get("kind")
            except (ValueError, AttributeError):
                return n, first, first_previous, last, head, checkpoints, True
            if kind == "checkpoint":
                checkpoints.append((n, last, head, other))
            elif kind == "event":
                return n, first, first_previous, last, head, checkpoints, True
            continue
        p, t, a, v, k, r, payload, meta, previous, stored = found.groups()
        position = int(p)
        try:
            if not line.isascii():
                line.decode()
            pairs = dict(_META_PAIRS(meta))
            parts: list[bytes] = []
            for key in sorted(pairs):
                value = pairs[key]
                parts += (_LENGTH(len(key)), key, _LENGTH(len(value)), value)
            m = b"".join(parts)
            ok = (
                t == tenant
                and (n == 0 or (position > last and previous == head))
                and digest(
                    unhex(previous), p, t, a, v, k, r, binascii.a2b_base64(payload), m
                )
                == unhex(stored)
            )
        except ValueError:
            ok = False
        if not ok:
            return n, first, first_previous, last, head, checkpoints, True
        if n == 0:
            first, first_previous = position, previous
        n, last, head = n + 1, position, stored
    return n, first, first_previous, last, head, checkpoints, False


def _bounds(path: str, start: int, chunk_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges from ``start`` to the end, each starting at a line."""
    bounds = []
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        while start < size:
            f.seek(min(start + chunk_bytes, size))
            if f.tell() < size:
                f.readline()
            end = max(f.tell(), start + 1)
            bounds.append((start, end))
            start = end
    return bounds


_State = tuple[str, int | None, int | None, int, int, int | None]


def _state(walk: _Walk) -> _State:
    return (
        walk.head,
        walk.first,
        walk.last,
        walk.events,
        walk.checkpoints,
        walk.covered_to,
    )


def _apply(walk: _Walk, chunk: _Chunk) -> bool:
    """Link a checked chunk to the walk and check its checkpoints in order;
    ``False`` where the fast path stops."""
    n, first, first_previous, last, head, checkpoints, stopped = chunk
    try:
        linked = False
        for before, at, at_head, line in checkpoints:
            if before and not linked:
                if not _links(walk, first, first_previous):
                    return False
                linked = True
            if before:
                walk.last, walk.head = at, at_head.decode()
            walk.checkpoint(line)
        if n and not linked and not _links(walk, first, first_previous):
            return False
    except (_BadPositionError, KeyError, TypeError, ValueError, AttributeError):
        return False
    if n:
        walk.first = first if walk.first is None else walk.first
        walk.last, walk.head = last, head.decode()
        walk.events += n
    return not stopped


def _links(walk: _Walk, first: int, first_previous: bytes) -> bool:
    """Whether a chunk's first event follows the walk's last one."""
    return (walk.last is None or first > walk.last) and (
        first_previous.decode() == walk.head
    )


def verify_file(
    path: str | os.PathLike[str],
    keys: Mapping[str, Ed25519PublicKey],
    *,
    allow_uncovered_tail: bool = False,
    workers: int | None = None,
    chunk_bytes: int = _CHUNK_BYTES,
) -> Report:
    """Verify an export file; the same report as :func:`verify` over its
    lines, with the chunks checked by ``workers`` processes (default: one per
    processor; 1: in this process). A file that is not a regular file (a
    pipe) is walked line by line."""
    name = os.fspath(path)
    if not stat.S_ISREG(os.stat(name).st_mode):  # a pipe: read once, in order
        with open(name, "rb") as f:
            return verify(f, keys, allow_uncovered_tail=allow_uncovered_tail)
    walk = _Walk(keys, allow_uncovered_tail)
    with open(name, "rb") as f:
        header = f.readline()
    try:
        walk.start(json.loads(header))
    except (_BadPositionError, KeyError, TypeError, ValueError, AttributeError):
        with open(name, "rb") as f:
            return verify(f, keys, allow_uncovered_tail=allow_uncovered_tail)
    bounds = _bounds(name, len(header), chunk_bytes)
    saved: list[tuple[int, _State]] = [(len(header), _state(walk))]
    tenant = walk.tenant_id.encode()
    count = min(workers or os.cpu_count() or 1, len(bounds))
    pool = ProcessPoolExecutor(count) if count > 1 else None
    try:
        chunks: Iterator[_Chunk] = (
            pool.map(
                _check_chunk,
                [name] * len(bounds),
                [b[0] for b in bounds],
                [b[1] for b in bounds],
                [tenant] * len(bounds),
            )
            if pool
            else (_check_chunk(name, *b, tenant) for b in bounds)
        )
        for (start, _), chunk in zip(bounds, chunks, strict=True):
            before = walk.events
            saved.append((start, _state(walk)))
            if not _apply(walk, chunk):
                return _resume(name, walk, saved, before)
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    covered = walk.covered_to
    if (
        not allow_uncovered_tail
        and walk.last is not None
        and (covered is None or covered < walk.last)
    ):
        return _resume(name, walk, saved, walk.events)
    return walk.finish()


def _resume(name: str, walk: _Walk, saved: list[tuple[int, _State]], at: int) -> Report:
    """:func:`verify`'s walk from a saved state at least a window of events
    before the ``at``-th event, to the end or its first bad position."""
    offset, state = next(
        (o, s) for o, s in reversed(saved) if s[3] <= max(at - _WINDOW, 0)
    )
    resumed = _Walk(walk.keys, walk.allow_uncovered_tail, walk.tenant_id)
    (
        resumed.head,
        resumed.first,
        resumed.last,
        resumed.events,
        resumed.checkpoints,
        resumed.covered_to,
    ) = state
    with open(name, "rb") as f:
        f.seek(offset)
        return _run(resumed, (json.loads(line) for line in f), start=False)


def main(argv: list[str] | None = None) -> int:
    """``log_verifier.py EXPORT --keys KEYS``: exit 0 when ok, 1 when bad."""
    parser = argparse.ArgumentParser(description="Verify an AssureHub log export.")
    parser.add_argument("export", help="the JSON Lines export ('-': stdin)")
    parser.add_argument("--keys", required=True, help="the published keys (JSON)")
    args = parser.parse_args(argv)
    with open(args.keys, encoding="utf-8") as f:
        keys = public_keys(json.load(f))
    if args.export == "-":
        report = verify(sys.stdin.buffer, keys)
    else:
        report = verify_file(args.export, keys)
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
