"""The offline verifier's fast path over a file (chunks checked in worker
processes, the exporter's lines read without a JSON parser) gives exactly the
report of the line-by-line walk: the same first bad position, the same
problem and diagnosis, also when the damage lies in a later chunk and when
two chunks are damaged."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.eventstore import log_verifier
from infra.eventstore.log_verifier import (
    GENESIS,
    Problem,
    event_hash,
    verify,
    verify_file,
)
from tests.unit.test_log_verifier import KEYS, checkpoint, event, events_of, export

EVENTS = 240
POSITIONS = [3 * i + 1 for i in range(EVENTS)]  # gaps: other tenants' events
CHUNK = 3000  # bytes: about seven events a chunk


@pytest.fixture(autouse=True)
def small_window(monkeypatch):
    """A window of 20 events, so the walk resumes inside the file."""
    monkeypatch.setattr(log_verifier, "_WINDOW", 20)


EXPORTED_ORDER = (
    "kind",
    "position",
    "tenant_id",
    "aggregate_id",
    "version",
    "type",
    "recorded_at",
    "payload",
    "meta",
    "previous_hash",
    "hash",
)


def write(path: Path, lines: list[dict[str, Any]], exporter: bool = True) -> Path:
    """The lines as ``assurehub export-log`` writes them (``exporter``), or
    in another layout."""
    if exporter:
        lines = [
            {k: line[k] for k in EXPORTED_ORDER} if line["kind"] == "event" else line
            for line in lines
        ]
    separators = (",", ":") if exporter else (", ", ": ")
    path.write_text(
        "".join(json.dumps(line, separators=separators) + "\n" for line in lines)
    )
    return path


def alter(lines: list[dict[str, Any]], position: int) -> None:
    line = lines[events_of(lines)[position]]
    payload = bytearray(base64.b64decode(line["payload"]))
    payload[2] ^= 1
    line["payload"] = base64.b64encode(bytes(payload)).decode()


def delete(lines: list[dict[str, Any]], position: int) -> None:
    del lines[events_of(lines)[position]]


def insert_after(lines: list[dict[str, Any]], position: int) -> None:
    at = events_of(lines)[position]
    lines.insert(at + 1, event(position + 1, lines[at]["hash"]))


def swap(lines: list[dict[str, Any]], position: int) -> None:
    found = events_of(lines)
    a, b = lines[found[position]], lines[found[position + 3]]
    for name in ("aggregate_id", "payload", "meta"):
        a[name], b[name] = b[name], a[name]


def forge_signature(lines: list[dict[str, Any]], position: int) -> None:
    at = next(
        i
        for i, line in enumerate(lines)
        if line["kind"] == "checkpoint" and line["position"] >= position
    )
    lines[at]["signature"] = checkpoint(lines[at]["position"], "00" * 32)["signature"]


def uncover(lines: list[dict[str, Any]], _: int) -> None:
    del lines[-1]


def rename(lines: list[dict[str, Any]], position: int) -> None:
    """Not damage: an event whose actor is named with a non-ASCII letter,
    chained and signed as exported."""
    lines[events_of(lines)[position]]["meta"]["actor_id"] = "Åsa"
    head = GENESIS.hex()
    for line in lines[1:]:
        if line["kind"] == "event":
            line["previous_hash"] = head
            line["hash"] = head = event_hash(
                bytes.fromhex(head),
                line["position"],
                line["tenant_id"],
                line["aggregate_id"],
                line["version"],
                line["type"],
                line["recorded_at"],
                base64.b64decode(line["payload"]),
                line["meta"],
            ).hex()
        elif line["kind"] == "checkpoint":
            line.update(checkpoint(line["position"], head))


Damage = Callable[[list[dict[str, Any]], int], None]
CASES: list[tuple[str, Damage, int, Problem | None, int | None]] = [
    ("payload altered late", alter, 601, Problem.PAYLOAD_ALTERED, 601),
    ("event missing late", delete, 505, Problem.EVENT_MISSING, 508),
    ("event inserted late", insert_after, 430, Problem.EVENT_INSERTED, 431),
    ("order changed late", swap, 574, Problem.ORDER_CHANGED, 574),
    ("signature invalid late", forge_signature, 640, Problem.SIGNATURE_INVALID, 658),
    ("not covered", uncover, 0, Problem.NOT_COVERED, 691),
]


def exported() -> list[dict[str, Any]]:
    return export(POSITIONS, every=10)


@pytest.mark.parametrize(
    ("damage", "at", "problem", "position"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
@pytest.mark.parametrize("workers", [1, 2])
def test_a_damage_in_a_later_chunk_is_reported_as_by_the_walk(
    tmp_path, damage, at, problem, position, workers
):
    lines = exported()
    damage(lines, at)
    path = write(tmp_path / "log.jsonl", lines)
    expected = verify(lines, KEYS)
    assert (expected.problem, expected.position) == (problem, position)
    assert verify_file(path, KEYS, workers=workers, chunk_bytes=CHUNK) == expected


@pytest.mark.parametrize("workers", [1, 2])
def test_two_damaged_chunks_report_the_first_bad_position(tmp_path, workers):
    lines = exported()
    alter(lines, 601)
    delete(lines, 94)  # many chunks earlier
    path = write(tmp_path / "log.jsonl", lines)
    report = verify_file(path, KEYS, workers=workers, chunk_bytes=CHUNK)
    assert (report.problem, report.position) == (Problem.EVENT_MISSING, 97)
    assert report == verify(lines, KEYS)


@pytest.mark.parametrize("exporter", [True, False])
def test_an_intact_file_is_ok_with_the_walks_counts_and_head(tmp_path, exporter):
    lines = exported()
    path = write(tmp_path / "log.jsonl", lines, exporter)
    report = verify_file(path, KEYS, workers=2, chunk_bytes=CHUNK)
    assert report.ok, report
    assert (report.events, report.checkpoints) == (EVENTS, EVENTS // 10)
    assert report == verify(lines, KEYS)


@pytest.mark.parametrize("ascii_only", [True, False])
def test_lines_with_escapes_or_other_letters_verify_the_same(tmp_path, ascii_only):
    """``\\u00c5`` escapes are left to the walk; raw UTF-8 is read fast."""
    lines = exported()
    rename(lines, 301)
    rename(lines, 601)
    path = tmp_path / "log.jsonl"
    text = write(path, lines).read_text(encoding="utf-8")
    if ascii_only:
        text = text.replace("Åsa", "\\u00c5sa")
    path.write_text(text, encoding="utf-8")
    report = verify_file(path, KEYS, workers=2, chunk_bytes=CHUNK)
    assert report.ok, report
    assert report == verify(lines, KEYS)
    alter(lines, 652)
    write(path, lines)
    report = verify_file(path, KEYS, workers=2, chunk_bytes=CHUNK)
    assert (report.problem, report.position) == (Problem.PAYLOAD_ALTERED, 652)
    assert report == verify(lines, KEYS)


def test_a_line_that_is_not_utf8_is_malformed_as_in_the_walk(tmp_path):
    lines = exported()
    path = write(tmp_path / "log.jsonl", lines)
    data = path.read_bytes().replace(
        b'"actor_id":"alice"', b'"actor_id":"al\xffce"', 300
    )
    path.write_bytes(data)
    with path.open("rb") as f:
        expected = verify(f, KEYS)
    assert expected.problem is Problem.MALFORMED
    assert verify_file(path, KEYS, workers=2, chunk_bytes=CHUNK) == expected


def test_a_live_check_accepts_an_uncovered_tail_as_the_walk_does(tmp_path):
    lines = exported()
    uncover(lines, 0)
    path = write(tmp_path / "log.jsonl", lines)
    report = verify_file(path, KEYS, allow_uncovered_tail=True, chunk_bytes=CHUNK)
    assert report.ok
    assert report == verify(lines, KEYS, allow_uncovered_tail=True)


def walk_takeovers(monkeypatch) -> list[int]:
    """The events walked already each time the line-by-line walk took over
    (filled in as :func:`verify_file` runs)."""
    found: list[int] = []
    run = log_verifier._run

    def spy(walk, parsed, *, start):
        if not start:
            found.append(walk.events)
        return run(walk, parsed, start=start)

    monkeypatch.setattr(log_verifier, "_run", spy)
    return found


@pytest.fixture
def resumed(monkeypatch) -> list[int]:
    return walk_takeovers(monkeypatch)


def test_the_walk_takes_over_a_window_before_the_damaged_chunk(tmp_path, resumed):
    """The chunks before are not walked again line by line."""
    lines = exported()
    alter(lines, 601)
    path = write(tmp_path / "log.jsonl", lines)
    report = verify_file(path, KEYS, workers=1, chunk_bytes=CHUNK)
    assert (report.problem, report.position) == (Problem.PAYLOAD_ALTERED, 601)
    (events,) = resumed
    assert 0 < events <= 200 - 20  # 601 is the 201st event; the window is 20


def test_an_exported_file_is_read_by_the_fast_path_alone(tmp_path, resumed):
    path = write(tmp_path / "log.jsonl", exported())
    assert verify_file(path, KEYS, workers=2, chunk_bytes=CHUNK).ok
    assert resumed == []


def test_a_pipe_is_walked_line_by_line(tmp_path):
    lines = exported()
    alter(lines, 601)
    text = write(tmp_path / "log.jsonl", lines).read_bytes()
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    writer = threading.Thread(target=pipe.write_bytes, args=(text,))
    writer.start()
    try:
        report = verify_file(pipe, KEYS, workers=2, chunk_bytes=CHUNK)
    finally:
        writer.join(timeout=10)
    assert (report.problem, report.position) == (Problem.PAYLOAD_ALTERED, 601)
