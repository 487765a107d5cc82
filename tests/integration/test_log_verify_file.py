"""``assurehub export-log`` then ``assurehub verify-log FILE --keys KEYS`` on a
real store: the exporter's lines are read by the verifier's fast path (no
line walked one by one), and a payload changed in the ``events`` table behind
the application's back is named where the line-by-line walk names it."""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.bootstrap import Container
from infra.eventlog.export import export_lines
from infra.eventstore import log_verifier
from infra.eventstore.log_verifier import Problem, public_keys, verify, verify_file
from processors.log_cli import export_log
from tests.integration.test_event_log import append, change_payload_byte, watcher
from tests.scratch_database import scratch_container
from tests.unit.test_log_verifier_parallel import walk_takeovers


@pytest.fixture(scope="module")
def store(settings) -> Iterator[Container]:
    """A database of its own: the test edits its events table."""
    with scratch_container(settings) as container:
        yield container


def export(store: Container, tenant: str, folder: Path) -> tuple[Path, Path]:
    """The export file and the keys document, as an auditor gets them."""
    path = folder / "log.jsonl"
    export_log(
        store.database,
        argparse.Namespace(
            tenant=tenant, from_position=1, to_position=None, output=path
        ),
    )
    keys = [
        {k: line[k] for k in ("key_id", "algorithm", "public_key")}
        for line in export_lines(store.database, tenant, 1, None)
        if line["kind"] == "key"
    ]
    (folder / "keys.json").write_text(json.dumps({"keys": keys}))
    return path, folder / "keys.json"


def test_an_export_verifies_by_file_and_a_changed_payload_is_named(
    store, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(log_verifier, "_WINDOW", 5)
    resumed = walk_takeovers(monkeypatch)
    tenant, other = f"file-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    positions = []
    for _ in range(6):
        positions += append(store, tenant, 5)
        append(store, other, 1)
    watcher(store).check()
    path, keys_file = export(store, tenant, tmp_path)
    keys = public_keys(json.loads(keys_file.read_text()))

    report = verify_file(path, keys, workers=1, chunk_bytes=1500)
    assert report.ok, report
    assert report.events == 30
    assert resumed == []  # every line read by the fast path
    assert log_verifier.main([str(path), "--keys", str(keys_file)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: tenant {tenant}")

    bad = positions[24]
    change_payload_byte(store, bad)
    path, _ = export(store, tenant, tmp_path)
    report = verify_file(path, keys, workers=1, chunk_bytes=1500)
    assert (report.problem, report.position) == (Problem.PAYLOAD_ALTERED, bad)
    with path.open("rb") as lines:
        assert report == verify(lines, keys)
    (walked,) = resumed  # the walk took over once, a window before the chunk
    assert 0 < walked <= 24 - 5
