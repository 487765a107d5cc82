"""The one error the document renderer raises.

Exception tree::

    ValueError
    └── RenderError   the view cannot be rendered (a lasting failure)

A :class:`RenderError` means that rendering the same view again fails the
same way, so a processor marks the document ``failed`` with the message and
does not retry it.
"""

from __future__ import annotations


class RenderError(ValueError):
    """The view cannot be rendered as asked.

    Raised for a layout section unknown to the document kind (a template of
    the wrong kind), a section named twice, an unknown format, or text that a
    DOCX or PDF cannot hold (control characters).
    """
