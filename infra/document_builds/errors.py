"""The one error a document build raises for a lasting reason.

Exception tree::

    ValueError
    └── DocumentBuildError   the request cannot be built (code + detail)

Building the same request again fails the same way, so the processor records
the document ``failed`` with :attr:`DocumentBuildError.code` and does not
retry. Codes:

- ``document.template_wrong_kind``: the template lays out another kind.
- ``document.source_missing``: an aggregate, version, layout or site the
  request names is not in the event store.
- ``document.unrenderable``: the renderer refused the view
  (:class:`~infra.documents.RenderError`: a section unknown to the kind, a
  section named twice, text a document cannot hold).
"""

from __future__ import annotations


class DocumentBuildError(ValueError):
    """The document cannot be built from what its request names.

    Attributes:
        code: A stable code, recorded in the ``document.render_failed`` event.
        detail: What is wrong, for people.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
