"""A scrape of the multiprocess directory while another process is still
creating its file: the file is left out, the scrape answers."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from infra.metrics import server
from infra.metrics.files import readable_files


def written(folder: Path) -> Path:
    """A file as a running process leaves it: one counter sample."""
    path = folder / "counter_101.db"
    values = MmapedDict(str(path))
    key = mmap_key("assurehub_x_total", "assurehub_x_total", ["kind"], ["a"], "x")
    values.write_value(key, 3.0, 0.0)
    values.close()
    return path


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(server, "directory", lambda: tmp_path)
    return tmp_path


def test_a_scrape_leaves_out_an_empty_and_a_truncated_file(folder):
    good = written(folder)
    (folder / "counter_202.db").write_bytes(b"")  # created, header not yet
    # a header saying 4 KiB are used, in a file of 8 bytes
    (folder / "histogram_303.db").write_bytes(struct.pack("i", 4096) + b"\0" * 4)

    text = generate_latest(server.exposition_registry(None)).decode()

    assert 'assurehub_x_total{kind="a"} 3.0' in text
    assert readable_files(folder) == [str(good)]


def test_a_file_is_read_once_its_process_has_written_it(folder):
    (folder / "counter_404.db").write_bytes(b"")
    assert readable_files(folder) == []
    (folder / "counter_404.db").unlink()
    written(folder)
    assert (
        "assurehub_x_total"
        in generate_latest(server.exposition_registry(None)).decode()
    )
