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
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import struct
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
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
    n = _LENGTH
    p, t, a = b"%d" % position, tenant_id.encode(), aggregate_id.encode()
    v, k, r = b"%d" % version, type_.encode(), recorded_at.encode()
    m = metadata_bytes(meta)
    return hashlib.sha256(
        b"".join(
            (
                _TAG,
                n(len(previous)),
                previous,
                n(len(p)),
                p,
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
    ).digest()


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
    try:
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
        with open(args.export, "rb") as lines:
            report = verify(lines, keys)
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
