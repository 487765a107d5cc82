"""The layout's sections, checked against the kind of document rendered.

The domain checks a template's sections when it is created or revised; the
renderer checks them again because the view may pair a layout with the
wrong kind of document (a certificate template for an audit report).
"""

from __future__ import annotations

from domain.document_template import SECTIONS, DocumentKind, DocumentLayout
from infra.documents.errors import RenderError


def checked_sections(layout: DocumentLayout, kind: DocumentKind) -> tuple[str, ...]:
    """The layout's section names, in order, if ``kind`` offers each once.

    Raises:
        RenderError: a section unknown to ``kind``, or one named twice.
    """
    allowed = SECTIONS[kind]
    seen: set[str] = set()
    for name in layout.sections:
        if name not in allowed:
            raise RenderError(
                f"document template version {layout.number} has section {name!r}, "
                f"which {kind.value} documents do not have "
                f"(they have {', '.join(allowed)})"
            )
        if name in seen:
            raise RenderError(
                f"document template version {layout.number} names section "
                f"{name!r} twice"
            )
        seen.add(name)
    return layout.sections
