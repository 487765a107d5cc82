"""Re-write a ZIP package so that its bytes depend on its content only.

python-docx stamps every entry with the time of saving. Here each entry is
written again with a fixed date (1980-01-01 00:00, the earliest a ZIP can
hold), fixed permissions, one compression method and level, no comment or
extra fields, and in a fixed order: ``[Content_Types].xml`` first (as Office
writes it), then by name.
"""

from __future__ import annotations

import io
import zipfile

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_FIRST = "[Content_Types].xml"
_PERMISSIONS = 0o100644  # regular file, rw-r--r--


def reproducible_zip(package: bytes) -> bytes:
    """``package`` re-written with fixed entry metadata and order.

    Raises:
        zipfile.BadZipFile: ``package`` is not a ZIP archive.
    """
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        entries = {info.filename: source.read(info) for info in source.infolist()}
    names = sorted(entries, key=lambda name: (name != _FIRST, name))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = _PERMISSIONS << 16
            target.writestr(info, entries[name], compresslevel=6)
    return output.getvalue()
