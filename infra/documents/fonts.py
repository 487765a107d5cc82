"""The TrueType fonts embedded in every PDF, loaded from this package.

DejaVu Sans (regular and bold) ships in ``fonts/`` beside this module, with
its license, so PDF bytes never depend on the fonts installed on the machine
that renders. It covers Latin, Greek and Cyrillic scripts (Göteborg, Łódź,
İstanbul, Ærøskøbing, Zürich); CJK text would print as missing glyphs.

Fonts are registered with reportlab on first use, once per process, under
names of our own so that nothing else registered in the process collides.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "AssureHubSans"
BOLD = "AssureHubSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}


class _Widths(dict[str, float]):
    """Advance widths by character; a character the font lacks has ``default``."""

    def __init__(self, widths: dict[int, float], default: float) -> None:
        super().__init__((chr(code), width) for code, width in widths.items())
        self.default = default

    def __missing__(self, char: str) -> float:
        return self.default


class Metrics:
    """Glyph advance widths of one font, for wrapping text quickly.

    Args:
        widths: Advance width of each code point in 1/1000 em.
        default: Width of a character the font lacks.
    """

    def __init__(self, widths: dict[int, float], default: float) -> None:
        self._widths = _Widths(widths, default)

    def width(self, text: str, size: float) -> float:
        """Width of ``text`` set in this font at ``size`` points."""
        return sum(map(self._widths.__getitem__, text)) * size / 1000


def register_fonts() -> None:
    """Register the embedded fonts with reportlab (once per process).

    Raises:
        FileNotFoundError: a font file is missing from the installed package.
    """
    _fonts()


@cache
def _fonts() -> dict[str, TTFont]:
    fonts = {name: TTFont(name, str(FONT_DIR / file)) for name, file in _FILES.items()}
    for font in fonts.values():
        pdfmetrics.registerFont(font)
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
    return fonts


@cache
def metrics(name: str) -> Metrics:
    """The width table of an embedded font, ``REGULAR`` or ``BOLD``."""
    face = _fonts()[name].face
    return Metrics(dict(face.charWidths), float(face.defaultWidth))
