"""The certificate's QR code, the same symbol in both formats.

segno (already used for TOTP enrollment) encodes the URL once, with error
correction level M and the standard four-module quiet zone. The PDF draws
the dark modules as one vector path (a run of dark modules in a row is one
rectangle), which is sharp at any resolution and about ten times faster than
reportlab's QR widget; the DOCX embeds a PNG of the same symbol.
"""

from __future__ import annotations

import io

import segno
from reportlab.lib.units import mm
from reportlab.platypus import Flowable

QUIET_ZONE = 4
"""Light modules around the symbol, as ISO/IEC 18004 asks."""
PNG_SCALE = 8
"""Pixels per module in the DOCX image (sharp when printed at 40 mm)."""


def _symbol(data: str) -> segno.QRCode:
    return segno.make_qr(data, error="m")


def qr_png(data: str) -> bytes:
    """A PNG of the QR code of ``data``; the same data gives the same bytes."""
    buffer = io.BytesIO()
    _symbol(data).save(buffer, kind="png", scale=PNG_SCALE, border=QUIET_ZONE)
    return buffer.getvalue()


class QrCodeFlowable(Flowable):
    """A QR code of ``data``, ``size_mm`` wide with its quiet zone, centred.

    Args:
        data: The text to encode (the verification URL).
        size_mm: Printed width and height, quiet zone included.
    """

    def __init__(self, data: str, size_mm: float) -> None:
        super().__init__()
        self._matrix = _symbol(data).matrix
        self._size = size_mm * mm
        self.hAlign = "CENTER"

    def wrap(self, _avail_width: float, _avail_height: float) -> tuple[float, float]:
        """The flowable's size: a square of ``size_mm``."""
        return self._size, self._size

    def draw(self) -> None:
        """Draw the dark modules as one filled path."""
        modules = len(self._matrix) + 2 * QUIET_ZONE
        unit = self._size / modules
        canvas = self.canv
        path = canvas.beginPath()
        for row_index, row in enumerate(self._matrix):
            y = self._size - (row_index + QUIET_ZONE + 1) * unit
            column = 0
            while column < len(row):
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < len(row) and row[column]:
                    column += 1
                x = (start + QUIET_ZONE) * unit
                path.rect(x, y, (column - start) * unit, unit)
        canvas.setFillColorRGB(0, 0, 0)
        canvas.drawPath(path, stroke=0, fill=1)
