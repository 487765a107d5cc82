"""What every PDF page carries besides its content.

The running head and, for a draft, the DRAFT watermark are drawn when each
page starts (:meth:`PageFurniture.on_page`, under the content). The "Page N
of M" footer needs the page count, which is known only at the end:
:class:`NumberedCanvas` keeps every finished page and draws the footers when
the document is saved (reportlab's usual recipe, in one pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus.doctemplate import BaseDocTemplate

from infra.documents.fonts import BOLD, REGULAR

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
HEAD_Y = PAGE_HEIGHT - 12 * mm
FOOT_Y = 10 * mm


@dataclass
class PageFurniture:
    """Running head, draft mark and footer of one document's pages.

    Attributes:
        running_head: Text at the top left of every page.
        draft: Whether to mark every page DRAFT.
        pages: Set to the page count when the document is saved.
    """

    running_head: str
    draft: bool
    pages: int = field(default=0)

    def on_page(self, canvas: Canvas, _doc: BaseDocTemplate) -> None:
        """Draw the running head and the draft mark (page start callback)."""
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(colors.Color(0.35, 0.35, 0.35))
        canvas.drawString(MARGIN, HEAD_Y, self.running_head)
        if self.draft:
            canvas.setFont(BOLD, 8)
            canvas.drawRightString(PAGE_WIDTH - MARGIN, HEAD_Y, "DRAFT")
            canvas.setFont(BOLD, 110)
            canvas.setFillColor(colors.Color(0.85, 0.85, 0.85))
            canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
            canvas.rotate(45)
            canvas.drawCentredString(0, -40, "DRAFT")
        canvas.restoreState()

    def draw_footer(self, canvas: Canvas, page: int, total: int) -> None:
        """Draw "Page N of M" at the bottom of the current page."""
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(colors.Color(0.35, 0.35, 0.35))
        canvas.drawCentredString(PAGE_WIDTH / 2, FOOT_Y, f"Page {page} of {total}")
        canvas.restoreState()


class NumberedCanvas(Canvas):
    """A canvas that draws each page's footer once the page count is known.

    Args:
        furniture: Draws the footer and receives the page count.
        *args: As for reportlab's ``Canvas``.
        **kwargs: As for reportlab's ``Canvas`` (``invariant`` included).
    """

    def __init__(self, *args: Any, furniture: PageFurniture, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._furniture = furniture
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        """Keep the finished page; it is emitted with its footer on save."""
        self._pages.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # reportlab's page reset

    def save(self) -> None:
        """Emit every kept page with "Page N of M", then write the file."""
        total = len(self._pages)
        self._furniture.pages = total
        for number, state in enumerate(self._pages, 1):
            self.__dict__.update(state)
            self._furniture.draw_footer(self, number, total)
            super().showPage()
        self._pages.clear()  # the kept states refer to the list: no cycle left
        super().save()
