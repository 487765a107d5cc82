"""The standard template: the checklist an audit works from.

Lifecycle (this module): drafted; clauses added, changed and removed while in
draft; published as an immutable, numbered version; a new draft started from
the latest published version and published in turn, which supersedes the
previous one; retired.

Design: one aggregate per template lineage, i.e. per tenant and standard
(``ISO 9001`` in its ``2015`` edition), holding every version of it. The rules
that matter span versions: at most one open draft, version numbers without
gaps, and publishing N+1 superseding N in the same step. Inside one aggregate
they are checked and recorded in one transaction; with one aggregate per
version they would need a lock or a saga across aggregates. The price is an
aggregate that grows with each version, which stays small in practice (a few
hundred clauses, a handful of versions a year). A new edition of the standard
is a new lineage, because its clause numbering is a different checklist.

Audits hold ``(template id, version number)`` and read that version's frozen
clause tree with :meth:`StandardTemplate.published_version`, which keeps
answering after newer versions are published or the template is retired.
:class:`StandardTemplate.Published` carries the whole tree, so a consumer can
build the published checklist from that one event.

Clauses are kept in the order they were added. A parent must exist before its
child is added and cannot be removed while it has children, so every parent
comes before its children in that order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, NamedTuple
from uuid import uuid4

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValueError, NotFoundError, RuleViolationError
from domain.events import EventMeta
from domain.values import bounded_multiline_text, bounded_text

STANDARD_NAME_MAX = 100
EDITION_MAX = 40
TITLE_MAX = 300
TEXT_MAX = 5000
CLAUSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,31}")
"""The standard's own numbering, e.g. ``4.1``, ``8.5.1``, ``A.5.23``."""


class Clause(NamedTuple):
    """One clause (requirement) of the standard, parent-linked into a tree."""

    clause_id: str
    parent_id: str | None
    title: str
    text: str


@dataclass(frozen=True)
class PublishedVersion:
    """A published version of the template; its clauses never change.

    Attributes:
        number: Version number, 1 for the first publication.
        published_on: Date it was published.
        clauses: The clause tree in order, parents before their children.
    """

    number: int
    published_on: date
    clauses: tuple[Clause, ...]


class StandardTemplate(Aggregate):
    """The versions of one tenant's checklist for one standard and edition."""

    class Event(Aggregate.Event):
        """Base of StandardTemplate events."""

        TYPE: ClassVar[str]
        meta: EventMeta

    class Drafted(Event, Aggregate.Created):
        """The template was started, with an empty draft of version 1."""

        TYPE = "standard_template.drafted"
        standard_name: str
        edition: str
        title: str

    class ClauseAdded(Event):
        """A clause was added to the open draft."""

        TYPE = "standard_template.clause_added"
        draft_version: int
        clause_id: str
        parent_id: str | None
        clause_title: str
        text: str

        def apply(self, aggregate: StandardTemplate) -> None:
            clause = Clause(
                self.clause_id, self.parent_id, self.clause_title, self.text
            )
            aggregate._draft_clauses = (*aggregate._draft_clauses, clause)

    class ClauseChanged(Event):
        """A clause of the open draft got a new title or text."""

        TYPE = "standard_template.clause_changed"
        draft_version: int
        clause_id: str
        clause_title: str
        text: str

        def apply(self, aggregate: StandardTemplate) -> None:
            aggregate._draft_clauses = tuple(
                c._replace(title=self.clause_title, text=self.text)
                if c.clause_id == self.clause_id
                else c
                for c in aggregate._draft_clauses
            )

    class ClauseRemoved(Event):
        """A clause without children was removed from the open draft."""

        TYPE = "standard_template.clause_removed"
        draft_version: int
        clause_id: str

        def apply(self, aggregate: StandardTemplate) -> None:
            aggregate._draft_clauses = tuple(
                c for c in aggregate._draft_clauses if c.clause_id != self.clause_id
            )

    class Published(Event):
        """The open draft was frozen as a published version."""

        TYPE = "standard_template.published"
        template_version: int
        published_on: date
        supersedes: int | None
        clause_ids: tuple[str, ...]
        parent_ids: tuple[str | None, ...]
        clause_titles: tuple[str, ...]
        clause_texts: tuple[str, ...]

        def apply(self, aggregate: StandardTemplate) -> None:
            clauses = tuple(
                Clause(*fields)
                for fields in zip(
                    self.clause_ids,
                    self.parent_ids,
                    self.clause_titles,
                    self.clause_texts,
                    strict=True,
                )
            )
            version = PublishedVersion(
                self.template_version, self.published_on, clauses
            )
            aggregate.published_versions = (*aggregate.published_versions, version)
            aggregate.draft_version = None
            aggregate._draft_clauses = ()

    class DraftStarted(Event):
        """A new draft was opened as a copy of the latest published version."""

        TYPE = "standard_template.draft_started"
        draft_version: int
        copied_from: int

        def apply(self, aggregate: StandardTemplate) -> None:
            aggregate.draft_version = self.draft_version
            aggregate._draft_clauses = aggregate.published_version(
                self.copied_from
            ).clauses

    class Retired(Event):
        """The template was retired; any open draft was discarded."""

        TYPE = "standard_template.retired"
        retired_on: date
        discarded_draft: int | None

        def apply(self, aggregate: StandardTemplate) -> None:
            aggregate.is_retired = True
            aggregate.retired_on = self.retired_on
            aggregate.draft_version = None
            aggregate._draft_clauses = ()

    def __init__(
        self, meta: EventMeta, standard_name: str, edition: str, title: str
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.standard_name = standard_name
        self.edition = edition
        self.title = title
        self.draft_version: int | None = 1
        self._draft_clauses: tuple[Clause, ...] = ()
        self.published_versions: tuple[PublishedVersion, ...] = ()
        self.is_retired = False
        self.retired_on: date | None = None

    @classmethod
    def draft(
        cls, meta: EventMeta, standard_name: str, edition: str, title: str
    ) -> StandardTemplate:
        """Start a template for a standard and edition, with an empty draft.

        Raises:
            InvalidValueError: blank or over-long standard name, edition or title.
        """
        return cls._create(
            cls.Drafted,
            id=uuid4(),
            meta=meta,
            standard_name=bounded_text(
                standard_name, "standard_name", STANDARD_NAME_MAX
            ),
            edition=bounded_text(edition, "edition", EDITION_MAX),
            title=bounded_text(title, "title", TITLE_MAX),
        )

    @property
    def latest_published_version(self) -> int | None:
        """Number of the newest published version, ``None`` before the first."""
        return self.published_versions[-1].number if self.published_versions else None

    def published_version(self, number: int) -> PublishedVersion:
        """The published version ``number`` with its frozen clause tree.

        Raises:
            NotFoundError: no version of that number has been published.
        """
        for version in self.published_versions:
            if version.number == number:
                return version
        raise NotFoundError("standard template version", number)

    def is_published(self, number: int) -> bool:
        """Whether version ``number`` has been published."""
        return any(v.number == number for v in self.published_versions)

    def is_superseded(self, number: int) -> bool:
        """Whether version ``number`` was published and a later one since."""
        latest = self.latest_published_version
        return self.is_published(number) and latest is not None and number < latest

    def draft_clauses(self) -> tuple[Clause, ...]:
        """The clauses of the open draft, in order.

        Raises:
            RuleViolationError: the template is retired or has no open draft.
        """
        self._open_draft()
        return self._draft_clauses

    def add_clause(
        self,
        meta: EventMeta,
        clause_id: str,
        title: str,
        text: str,
        parent_id: str | None = None,
    ) -> str:
        """Add a clause to the open draft, under ``parent_id`` if given.

        Returns:
            The clause id, stripped of surrounding white space.

        Raises:
            InvalidValueError: malformed clause id, bad title or text.
            RuleViolationError: retired, no open draft, the clause id is taken
                or the parent is not in the draft.
        """
        draft_version = self._open_draft()
        new_id = _clause_id(clause_id, "clause_id")
        parent = None if parent_id is None else _clause_id(parent_id, "parent_id")
        clause_title = bounded_text(title, "title", TITLE_MAX)
        clause_text = bounded_multiline_text(text, "text", TEXT_MAX)
        if self._draft_clause(new_id) is not None:
            raise RuleViolationError(
                "standard_template.clause_exists",
                f"draft {draft_version} of standard template {self.id} already "
                f"has clause {new_id}",
            )
        if parent is not None:
            self._existing_clause(parent, draft_version)
        self.trigger_event(
            self.ClauseAdded,
            meta=meta,
            draft_version=draft_version,
            clause_id=new_id,
            parent_id=parent,
            clause_title=clause_title,
            text=clause_text,
        )
        return new_id

    def change_clause(
        self, meta: EventMeta, clause_id: str, title: str, text: str
    ) -> None:
        """Give a clause of the open draft a new title and text.

        Raises:
            InvalidValueError: bad title or text.
            RuleViolationError: retired, no open draft, unknown clause, or the
                title and text are the current ones.
        """
        draft_version = self._open_draft()
        clause = self._existing_clause(clause_id.strip(), draft_version)
        clause_title = bounded_text(title, "title", TITLE_MAX)
        clause_text = bounded_multiline_text(text, "text", TEXT_MAX)
        if (clause.title, clause.text) == (clause_title, clause_text):
            raise RuleViolationError(
                "standard_template.clause_unchanged",
                f"clause {clause.clause_id} of draft {draft_version} of standard "
                f"template {self.id} already has this title and text",
            )
        self.trigger_event(
            self.ClauseChanged,
            meta=meta,
            draft_version=draft_version,
            clause_id=clause.clause_id,
            clause_title=clause_title,
            text=clause_text,
        )

    def remove_clause(self, meta: EventMeta, clause_id: str) -> None:
        """Remove a clause that has no children from the open draft.

        Raises:
            RuleViolationError: retired, no open draft, unknown clause, or the
                clause has children.
        """
        draft_version = self._open_draft()
        clause = self._existing_clause(clause_id.strip(), draft_version)
        children = [
            c.clause_id for c in self._draft_clauses if c.parent_id == clause.clause_id
        ]
        if children:
            raise RuleViolationError(
                "standard_template.clause_has_children",
                f"clause {clause.clause_id} of draft {draft_version} of standard "
                f"template {self.id} has children {', '.join(children)}; remove "
                "them first",
            )
        self.trigger_event(
            self.ClauseRemoved,
            meta=meta,
            draft_version=draft_version,
            clause_id=clause.clause_id,
        )

    def publish(self, meta: EventMeta, on: date) -> int:
        """Freeze the open draft as a published version; it supersedes the last.

        Returns:
            The published version's number.

        Raises:
            RuleViolationError: retired, no open draft, or the draft is empty.
        """
        draft_version = self._open_draft()
        clauses = self._draft_clauses
        if not clauses:
            raise RuleViolationError(
                "standard_template.empty",
                f"draft {draft_version} of standard template {self.id} has no "
                "clauses to publish",
            )
        self.trigger_event(
            self.Published,
            meta=meta,
            template_version=draft_version,
            published_on=on,
            supersedes=self.latest_published_version,
            clause_ids=tuple(c.clause_id for c in clauses),
            parent_ids=tuple(c.parent_id for c in clauses),
            clause_titles=tuple(c.title for c in clauses),
            clause_texts=tuple(c.text for c in clauses),
        )
        return draft_version

    def start_new_draft(self, meta: EventMeta) -> int:
        """Open the next version's draft as a copy of the latest published one.

        Returns:
            The new draft's version number.

        Raises:
            RuleViolationError: retired, or a draft is open already.
        """
        self._refuse_if_retired()
        latest = self.latest_published_version
        if self.draft_version is not None or latest is None:
            raise RuleViolationError(
                "standard_template.draft_open",
                f"standard template {self.id} already has draft "
                f"{self.draft_version} open; publish it first",
            )
        self.trigger_event(
            self.DraftStarted, meta=meta, draft_version=latest + 1, copied_from=latest
        )
        return latest + 1

    def retire(self, meta: EventMeta, on: date) -> None:
        """Take no more drafts or publications; published versions stay readable.

        An open draft is discarded (the event names it).

        Raises:
            RuleViolationError: the template is retired already.
        """
        self._refuse_if_retired()
        self.trigger_event(
            self.Retired, meta=meta, retired_on=on, discarded_draft=self.draft_version
        )

    def _refuse_if_retired(self) -> None:
        if self.is_retired:
            raise RuleViolationError(
                "standard_template.retired",
                f"standard template {self.id} was retired on {self.retired_on}",
            )

    def _open_draft(self) -> int:
        self._refuse_if_retired()
        if self.draft_version is None:
            raise RuleViolationError(
                "standard_template.no_draft",
                f"standard template {self.id} has no open draft; start a new one "
                f"from version {self.latest_published_version}",
            )
        return self.draft_version

    def _draft_clause(self, clause_id: str) -> Clause | None:
        return next((c for c in self._draft_clauses if c.clause_id == clause_id), None)

    def _existing_clause(self, clause_id: str, draft_version: int) -> Clause:
        clause = self._draft_clause(clause_id)
        if clause is None:
            raise RuleViolationError(
                "standard_template.unknown_clause",
                f"draft {draft_version} of standard template {self.id} has no "
                f"clause {clause_id}",
            )
        return clause


def _clause_id(value: str, field: str) -> str:
    """``value`` stripped; raise unless it is a clause number like ``8.5.1``."""
    clause_id = value.strip()
    if not CLAUSE_ID.fullmatch(clause_id):
        raise InvalidValueError(
            field,
            f"{field} {value!r} must be 1 to 32 letters, digits, dots or hyphens, "
            "starting with a letter or digit",
        )
    return clause_id
