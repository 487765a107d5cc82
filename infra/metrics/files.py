"""The multiprocess directory as a scrape reads it.

Each process writes its instruments into its own files under the directory
(one per instrument kind and pid). A process that is starting creates its
file before it writes the file's header, so for a moment a scrape can find a
file that is empty or shorter than its header says; prometheus-client's
collector then raises (``struct.error``, or ``RuntimeError`` on a truncated
entry) and the whole scrape fails. :class:`DirectoryCollector` leaves such a
file out of that scrape (it is read by the next one) and logs it at debug.
"""

from __future__ import annotations

import glob
import json
import logging
import struct
from collections.abc import Iterable
from pathlib import Path

from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

_UNREADABLE = (struct.error, RuntimeError, ValueError, UnicodeDecodeError)


def readable_files(folder: Path) -> list[str]:
    """The ``*.db`` files of ``folder`` that can be read whole just now."""
    files = []
    for path in sorted(glob.glob(str(folder / "*.db"))):
        try:
            values = MmapedDict.read_all_values_from_file(path)  # type: ignore[no-untyped-call]
            for key, _, _, _ in values:
                json.loads(key)
        except FileNotFoundError:
            continue  # its process ended between the listing and now
        except _UNREADABLE as e:
            log.debug(
                "metrics: file not readable yet, left out of this scrape",
                extra={"path": path, "error": repr(e)},
            )
            continue
        files.append(path)
    return files


class DirectoryCollector(Collector):
    """Every process's instruments in ``folder``, merged as
    prometheus-client's multiprocess collector merges them, from the files
    that can be read (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def collect(self) -> Iterable[Metric]:
        files = readable_files(self._folder)
        merged: Iterable[Metric] = MultiProcessCollector.merge(files)  # type: ignore[no-untyped-call]
        return merged
