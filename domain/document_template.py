"""The document template: the layout an audit report or certificate uses.

Lifecycle (this module): created as version 1; revised, each revision being a
new version whose event carries the whole new layout; retired, after which it
takes no more revisions. Every version stays readable, so a document rendered
with version ``n`` can be rendered again byte for byte.

The kind (audit report or certificate) is fixed at creation: it decides which
sections a layout may show (:data:`SECTIONS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import uuid4

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValueError, NotFoundError, RuleViolationError
from domain.events import EventMeta
from domain.values import bounded_multiline_text, bounded_text

TITLE_MAX = 300
BRANDING_MAX = 2000
SIGNATURE_BLOCK_MAX = 2000


class DocumentKind(StrEnum):
    """What a template lays out."""

    AUDIT_REPORT = "audit_report"
    CERTIFICATE = "certificate"


SECTIONS: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.AUDIT_REPORT: (
        "summary",
        "scope",
        "team",
        "assessment",
        "findings",
        "conclusion",
        "signatures",
    ),
    DocumentKind.CERTIFICATE: ("holder", "scope", "sites", "validity", "signatures"),
}
"""The sections a layout of each kind may show, in any order, each at most once."""


@dataclass(frozen=True)
class DocumentLayout:
    """One version of a template's layout; it never changes.

    Attributes:
        number: Version number, 1 at creation.
        title: Title printed on the document.
        branding: Branding text (issuer name, accreditation marks), line breaks kept.
        sections: The sections shown, in the order shown.
        signature_block: Text of the signature block, line breaks kept.
    """

    number: int
    title: str
    branding: str
    sections: tuple[str, ...]
    signature_block: str


class DocumentTemplate(Aggregate):
    """The versions of one tenant's layout for audit reports or certificates."""

    class Event(Aggregate.Event):
        """Base of DocumentTemplate events."""

        TYPE: ClassVar[str]
        meta: EventMeta

    class Created(Event, Aggregate.Created):
        """The template was created with its first layout (version 1)."""

        TYPE = "document_template.created"
        kind: str
        title: str
        branding: str
        sections: tuple[str, ...]
        signature_block: str

    class Revised(Event):
        """A new version of the layout was made; the event holds all of it."""

        TYPE = "document_template.revised"
        template_version: int
        title: str
        branding: str
        sections: tuple[str, ...]
        signature_block: str

        def apply(self, aggregate: DocumentTemplate) -> None:
            layout = DocumentLayout(
                self.template_version,
                self.title,
                self.branding,
                tuple(self.sections),
                self.signature_block,
            )
            aggregate.layouts = (*aggregate.layouts, layout)

    class Retired(Event):
        """The template was retired and takes no more revisions."""

        TYPE = "document_template.retired"
        retired_on: date

        def apply(self, aggregate: DocumentTemplate) -> None:
            aggregate.is_retired = True
            aggregate.retired_on = self.retired_on

    def __init__(
        self,
        meta: EventMeta,
        kind: str,
        title: str,
        branding: str,
        sections: tuple[str, ...],
        signature_block: str,
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.kind = DocumentKind(kind)
        self.layouts: tuple[DocumentLayout, ...] = (
            DocumentLayout(1, title, branding, tuple(sections), signature_block),
        )
        self.is_retired = False
        self.retired_on: date | None = None

    @classmethod
    def create(
        cls,
        meta: EventMeta,
        kind: DocumentKind | str,
        title: str,
        branding: str,
        sections: Sequence[str],
        signature_block: str,
    ) -> DocumentTemplate:
        """Create a template of ``kind`` with its first layout.

        Raises:
            InvalidValueError: unknown kind; blank or over-long title, branding
                or signature block; no sections, a section twice, or a section
                the kind does not offer.
        """
        document_kind = _kind(kind)
        return cls._create(
            cls.Created,
            id=uuid4(),
            meta=meta,
            kind=document_kind.value,
            title=bounded_text(title, "title", TITLE_MAX),
            branding=bounded_multiline_text(branding, "branding", BRANDING_MAX),
            sections=_sections(sections, document_kind),
            signature_block=bounded_multiline_text(
                signature_block, "signature_block", SIGNATURE_BLOCK_MAX
            ),
        )

    @property
    def latest_version(self) -> int:
        """Number of the current layout version."""
        return self.layouts[-1].number

    @property
    def current(self) -> DocumentLayout:
        """The current layout."""
        return self.layouts[-1]

    def layout_version(self, number: int) -> DocumentLayout:
        """The layout of version ``number``.

        Raises:
            NotFoundError: the template has no version of that number.
        """
        for layout in self.layouts:
            if layout.number == number:
                return layout
        raise NotFoundError("document template version", number)

    def revise(
        self,
        meta: EventMeta,
        title: str,
        branding: str,
        sections: Sequence[str],
        signature_block: str,
    ) -> int:
        """Make a new version with the whole layout given.

        Returns:
            The new version's number.

        Raises:
            InvalidValueError: as for :meth:`create`.
            RuleViolationError: the template is retired, or the layout is the
                current one.
        """
        if self.is_retired:
            raise RuleViolationError(
                "document_template.retired",
                f"document template {self.id} was retired on {self.retired_on}",
            )
        layout = DocumentLayout(
            self.latest_version + 1,
            bounded_text(title, "title", TITLE_MAX),
            bounded_multiline_text(branding, "branding", BRANDING_MAX),
            _sections(sections, self.kind),
            bounded_multiline_text(
                signature_block, "signature_block", SIGNATURE_BLOCK_MAX
            ),
        )
        current = self.current
        if (
            layout.title,
            layout.branding,
            layout.sections,
            layout.signature_block,
        ) == (
            current.title,
            current.branding,
            current.sections,
            current.signature_block,
        ):
            raise RuleViolationError(
                "document_template.unchanged",
                f"document template {self.id} already has this layout as "
                f"version {current.number}",
            )
        self.trigger_event(
            self.Revised,
            meta=meta,
            template_version=layout.number,
            title=layout.title,
            branding=layout.branding,
            sections=layout.sections,
            signature_block=layout.signature_block,
        )
        return layout.number

    def retire(self, meta: EventMeta, on: date) -> None:
        """Take no more revisions; every version stays readable.

        Raises:
            RuleViolationError: the template is retired already.
        """
        if self.is_retired:
            raise RuleViolationError(
                "document_template.retired",
                f"document template {self.id} was retired on {self.retired_on}",
            )
        self.trigger_event(self.Retired, meta=meta, retired_on=on)


def _kind(value: DocumentKind | str) -> DocumentKind:
    try:
        return DocumentKind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in DocumentKind)
        raise InvalidValueError(
            "kind", f"kind {value!r} is not one of {allowed}"
        ) from None


def _sections(values: Sequence[str], kind: DocumentKind) -> tuple[str, ...]:
    """The section names stripped; at least one, each offered by ``kind``, once."""
    if isinstance(values, str):
        raise InvalidValueError("sections", "sections must be a list of names")
    sections = tuple(v.strip() for v in values)
    if not sections:
        raise InvalidValueError("sections", "sections must name at least one section")
    allowed = SECTIONS[kind]
    for name in sections:
        if name not in allowed:
            raise InvalidValueError(
                "sections",
                f"section {name!r} is not offered for {kind.value} templates; "
                f"choose from {', '.join(allowed)}",
            )
        if sections.count(name) > 1:
            raise InvalidValueError(
                "sections", f"section {name!r} appears more than once"
            )
    return sections
