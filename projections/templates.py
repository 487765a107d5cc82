"""Standard and document templates read model, with every version of each.

Each template is one aggregate whose events carry all a row needs, so every
row is built from its own aggregate's events only and no delivery order of
other aggregates matters. Clause trees are stored as ordered lists of
``{clause_id, parent_id, title, text}``, parents before their children (the
order the domain keeps), so a reader can nest them in one pass.

``version`` and ``position`` on a row are those of the last event that changed
the row; on a template row that is the aggregate's current version (its ETag).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from projections.envelope import EventEnvelope
from projections.rows import Row, Rows, Table, columns

_STANDARD = "assurehub.standard_template."
DRAFTED = f"{_STANDARD}drafted.v1"
CLAUSE_ADDED = f"{_STANDARD}clause_added.v1"
CLAUSE_CHANGED = f"{_STANDARD}clause_changed.v1"
CLAUSE_REMOVED = f"{_STANDARD}clause_removed.v1"
PUBLISHED = f"{_STANDARD}published.v1"
DRAFT_STARTED = f"{_STANDARD}draft_started.v1"
STANDARD_RETIRED = f"{_STANDARD}retired.v1"
_DOCUMENT = "assurehub.document_template."
CREATED = f"{_DOCUMENT}created.v1"
REVISED = f"{_DOCUMENT}revised.v1"
DOCUMENT_RETIRED = f"{_DOCUMENT}retired.v1"

STANDARDS = "standard_templates"
STANDARD_VERSIONS = "standard_template_versions"
DOCUMENTS = "document_templates"
DOCUMENT_VERSIONS = "document_template_versions"


_TEMPLATE = 'tenant_id text, id uuid, title text, title_sort text COLLATE "C",'
_VERSION = "tenant_id text, template_id uuid, number integer,"
_CHANGED = "created_at timestamptz, updated_at timestamptz,"
_STAMP = "version integer, position bigint"
_BY_TITLE = (("tenant_id", "status", "title_sort"), ("tenant_id", "title_sort"))

TABLES = (
    Table(
        STANDARDS,
        columns(
            f"{_TEMPLATE} standard_name text, edition text, status text,"
            " draft_version integer?, draft_clauses jsonb,"
            " latest_published_version integer?, latest_published_on date?,"
            f" retired_on date?, {_CHANGED} {_STAMP}"
        ),
        key=("tenant_id", "id"),
        indexes=(*_BY_TITLE, ("tenant_id", "standard_name", "edition")),
    ),
    Table(
        STANDARD_VERSIONS,
        columns(
            f"{_VERSION} published_on date, supersedes integer?, clauses jsonb,"
            f" clause_count integer, superseded boolean, retired boolean, {_STAMP}"
        ),
        key=("tenant_id", "template_id", "number"),
    ),
    Table(
        DOCUMENTS,
        columns(
            f"{_TEMPLATE} kind text, status text, current_version integer,"
            f" retired_on date?, {_CHANGED} {_STAMP}"
        ),
        key=("tenant_id", "id"),
        indexes=(*_BY_TITLE, ("tenant_id", "kind", "status")),
    ),
    Table(
        DOCUMENT_VERSIONS,
        columns(
            f"{_VERSION} title text, branding text, sections jsonb,"
            f" signature_block text, created_at timestamptz, retired boolean,"
            f" {_STAMP}"
        ),
        key=("tenant_id", "template_id", "number"),
    ),
)
"""Standard templates and their published versions; document templates and
every version of their layout."""

DRAFT, PUBLISHED_STATUS, RETIRED = "draft", "published", "retired"
"""Statuses of a standard template; a document template is active or retired."""
ACTIVE = "active"


def _stamp(event: EventEnvelope) -> Row:
    return {"version": event.aggregate_version, "position": event.position}


def _key(event: EventEnvelope) -> tuple[str, UUID]:
    return (event.tenant_id, UUID(event.subject))


def _template(event: EventEnvelope, title: str) -> Row:
    """The columns every template row starts with."""
    return {
        "tenant_id": event.tenant_id,
        "id": UUID(event.subject),
        "title_sort": title.casefold(),
        "title": title,
        "status": DRAFT,
        "retired_on": None,
        "created_at": event.time,
        "updated_at": event.time,
        **_stamp(event),
    }


def _touch(event: EventEnvelope, store: Rows, table: str, **changes: Any) -> None:
    """Set ``changes`` and the event's stamp on the event's template row."""
    stamp = {"updated_at": event.time, **_stamp(event)}
    store.update(table, _key(event), stamp | changes)


def _draft(event: EventEnvelope, store: Rows) -> list[dict[str, Any]]:
    """The clauses of the template's open draft, in order."""
    row = store.get(STANDARDS, _key(event))
    return list(row["draft_clauses"]) if row is not None else []


# -- standard templates ---------------------------------------------------------


def _drafted(event: EventEnvelope, store: Rows) -> None:
    data: dict[str, Any] = event.data
    row = _template(event, data["title"])
    row["standard_name"], row["edition"] = data["standard_name"], data["edition"]
    row["draft_version"], row["draft_clauses"] = 1, []
    row["latest_published_version"] = row["latest_published_on"] = None
    store.insert(STANDARDS, row)


def _clause(data: dict[str, Any], parent_id: str | None) -> dict[str, Any]:
    return {
        "clause_id": data["clause_id"],
        "parent_id": parent_id,
        "title": data["clause_title"],
        "text": data["text"],
    }


def _clause_added(event: EventEnvelope, store: Rows) -> None:
    added = _clause(event.data, event.data["parent_id"])
    _touch(event, store, STANDARDS, draft_clauses=[*_draft(event, store), added])


def _clause_changed(event: EventEnvelope, store: Rows) -> None:
    target = event.data["clause_id"]
    clauses = [
        _clause(event.data, c["parent_id"]) if c["clause_id"] == target else c
        for c in _draft(event, store)
    ]
    _touch(event, store, STANDARDS, draft_clauses=clauses)


def _clause_removed(event: EventEnvelope, store: Rows) -> None:
    target = event.data["clause_id"]
    clauses = [c for c in _draft(event, store) if c["clause_id"] != target]
    _touch(event, store, STANDARDS, draft_clauses=clauses)


def _published_clauses(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The clause tree of a published event, as the draft kept it."""
    parallel = zip(
        data["clause_ids"],
        data["parent_ids"],
        data["clause_titles"],
        data["clause_texts"],
        strict=True,
    )
    names = ("clause_id", "parent_id", "title", "text")
    return [dict(zip(names, values, strict=True)) for values in parallel]


def _published(event: EventEnvelope, store: Rows) -> None:
    data: dict[str, Any] = event.data
    number, on = data["template_version"], date.fromisoformat(data["published_on"])
    clauses = _published_clauses(data)
    tenant_id, template_id = _key(event)
    _touch(
        event,
        store,
        STANDARDS,
        status=PUBLISHED_STATUS,
        draft_version=None,
        draft_clauses=[],
        latest_published_version=number,
        latest_published_on=on,
    )
    if data["supersedes"] is not None:
        old = (tenant_id, template_id, data["supersedes"])
        store.update(STANDARD_VERSIONS, old, {"superseded": True, **_stamp(event)})
    published = {
        "tenant_id": tenant_id,
        "template_id": template_id,
        "number": number,
        "published_on": on,
        "supersedes": data["supersedes"],
        "clauses": clauses,
        "clause_count": len(clauses),
        "superseded": False,
        "retired": False,
    }
    store.insert(STANDARD_VERSIONS, published | _stamp(event))


def _draft_started(event: EventEnvelope, store: Rows) -> None:
    tenant_id, template_id = _key(event)
    copied_from = (tenant_id, template_id, event.data["copied_from"])
    copied = store.get(STANDARD_VERSIONS, copied_from)
    _touch(
        event,
        store,
        STANDARDS,
        draft_version=event.data["draft_version"],
        draft_clauses=copied["clauses"] if copied is not None else [],
    )


def _retire_versions(event: EventEnvelope, store: Rows, table: str) -> None:
    tenant_id, template_id = _key(event)
    for row in store.find(table, {"tenant_id": tenant_id, "template_id": template_id}):
        key = (tenant_id, template_id, row["number"])
        store.update(table, key, {"retired": True, **_stamp(event)})


def _standard_retired(event: EventEnvelope, store: Rows) -> None:
    on = date.fromisoformat(event.data["retired_on"])
    _touch(
        event,
        store,
        STANDARDS,
        status=RETIRED,
        retired_on=on,
        draft_version=None,
        draft_clauses=[],
    )
    _retire_versions(event, store, STANDARD_VERSIONS)


# -- document templates ---------------------------------------------------------


def _layout(event: EventEnvelope, number: int) -> Row:
    data: dict[str, Any] = event.data
    tenant_id, template_id = _key(event)
    return {
        "tenant_id": tenant_id,
        "template_id": template_id,
        "number": number,
        "title": data["title"],
        "branding": data["branding"],
        "sections": list(data["sections"]),
        "signature_block": data["signature_block"],
        "created_at": event.time,
        "retired": False,
        **_stamp(event),
    }


def _created(event: EventEnvelope, store: Rows) -> None:
    row = _template(event, event.data["title"]) | {"status": ACTIVE}
    store.insert(DOCUMENTS, row | {"kind": event.data["kind"], "current_version": 1})
    store.insert(DOCUMENT_VERSIONS, _layout(event, 1))


def _revised(event: EventEnvelope, store: Rows) -> None:
    number, title = event.data["template_version"], event.data["title"]
    changes = {
        "current_version": number,
        "title": title,
        "title_sort": title.casefold(),
    }
    _touch(event, store, DOCUMENTS, **changes)
    store.insert(DOCUMENT_VERSIONS, _layout(event, number))


def _document_retired(event: EventEnvelope, store: Rows) -> None:
    on = date.fromisoformat(event.data["retired_on"])
    _touch(event, store, DOCUMENTS, status=RETIRED, retired_on=on)
    _retire_versions(event, store, DOCUMENT_VERSIONS)


_HANDLERS: dict[str, Callable[[EventEnvelope, Rows], None]] = {
    DRAFTED: _drafted,
    CLAUSE_ADDED: _clause_added,
    CLAUSE_CHANGED: _clause_changed,
    CLAUSE_REMOVED: _clause_removed,
    PUBLISHED: _published,
    DRAFT_STARTED: _draft_started,
    STANDARD_RETIRED: _standard_retired,
    CREATED: _created,
    REVISED: _revised,
    DOCUMENT_RETIRED: _document_retired,
}


class TemplateProjection:
    """Builds the standard and document template tables.

    Attributes:
        name: ``templates``; its tables live in schema ``rm_templates``.
        tables: Standard templates and their published versions, document
            templates and their versions.
    """

    name = "templates"
    tables: tuple[Table, ...] = TABLES

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Apply one standard or document template event; others are ignored."""
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(event, store)
