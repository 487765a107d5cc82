"""Documents read model: one row per requested document, with its status.

A row is built from its own document's events, except ``client_visible``:
a client sees an audit report only while the audit is closed, which the
audit's events say. The projection keeps each audit's closed state in
``document_audits`` (from ``audit.closed`` and ``audit.reopened``) and sets
``client_visible`` from it both when a report is requested and when its
audit closes or reopens, so whichever of the two aggregates' events arrives
first, the row ends the same. A certificate's document is visible to
clients (of its organization) from the start, as the certificate is.

``version`` and ``position`` are those of the document's last event; the
version is the detail's ETag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.document_values import DocumentStatus
from projections.envelope import EventEnvelope
from projections.rows import Row, Rows, Table, columns

_DOCUMENT = "assurehub.document."
REQUESTED = f"{_DOCUMENT}requested.v1"
RENDERED = f"{_DOCUMENT}rendered.v1"
RENDER_FAILED = f"{_DOCUMENT}render_failed.v1"
AUDIT_CLOSED = "assurehub.audit.closed.v1"
AUDIT_REOPENED = "assurehub.audit.reopened.v1"

DOCUMENTS = "documents"
DOCUMENT_AUDITS = "document_audits"
REPORT = "audit_report"

DOCUMENTS_TABLE = Table(
    DOCUMENTS,
    columns(
        "tenant_id text, id uuid, kind text, format text, status text,"
        " failure_code text?, failure_detail text?, sha256 text?, size bigint?,"
        " page_count integer?, media_type text?, file_name text?,"
        " template_id uuid, template_version integer, organization_id uuid,"
        " audit_id uuid, audit_version integer?, certificate_id uuid?,"
        " certificate_version integer?, draft boolean, client_visible boolean,"
        " requested_at timestamptz, requested_by text, rendered_at timestamptz?,"
        " updated_at timestamptz, version integer, position bigint"
    ),
    key=("tenant_id", "id"),
    indexes=(
        ("tenant_id", "requested_at"),
        ("tenant_id", "audit_id", "requested_at"),
        ("tenant_id", "certificate_id", "certificate_version"),
        ("tenant_id", "status", "requested_at"),
    ),
)
"""One row per document."""

DOCUMENT_AUDITS_TABLE = Table(
    DOCUMENT_AUDITS,
    columns("tenant_id text, audit_id uuid, closed boolean, position bigint"),
    key=("tenant_id", "audit_id"),
)
"""Whether each audit is closed now (as far as its events have arrived)."""


def _stamp(event: EventEnvelope) -> Row:
    return {
        "updated_at": event.time,
        "version": event.aggregate_version,
        "position": event.position,
    }


def _key(event: EventEnvelope) -> tuple[str, UUID]:
    return (event.tenant_id, UUID(event.subject))


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def _requested(event: EventEnvelope, store: Rows) -> None:
    data: dict[str, Any] = event.data
    audit_id = UUID(data["audit_id"])
    visible = True
    if data["kind"] == REPORT:
        audit = store.get(DOCUMENT_AUDITS, (event.tenant_id, audit_id))
        visible = audit is not None and bool(audit["closed"])
    row = {
        "tenant_id": event.tenant_id,
        "id": UUID(event.subject),
        "kind": data["kind"],
        "format": data["format"],
        "status": DocumentStatus.PENDING.value,
        "template_id": UUID(data["template_id"]),
        "template_version": data["template_version"],
        "organization_id": UUID(data["organization_id"]),
        "audit_id": audit_id,
        "audit_version": data["audit_version"],
        "certificate_id": _uuid(data["certificate_id"]),
        "certificate_version": data["certificate_version"],
        "draft": data["draft"],
        "client_visible": visible,
        "requested_at": event.time,
        "requested_by": event.actor_id,
        **_stamp(event),
    }
    store.insert(DOCUMENTS, row)


def _rendered(event: EventEnvelope, store: Rows) -> None:
    data: dict[str, Any] = event.data
    changes = {
        "status": DocumentStatus.READY.value,
        "sha256": data["sha256"],
        "size": data["size"],
        "page_count": data["page_count"],
        "media_type": data["media_type"],
        "file_name": data["file_name"],
        "rendered_at": event.time,
    }
    store.update(DOCUMENTS, _key(event), changes | _stamp(event))


def _failed(event: EventEnvelope, store: Rows) -> None:
    changes = {
        "status": DocumentStatus.FAILED.value,
        "failure_code": event.data["code"],
        "failure_detail": event.data["detail"],
    }
    store.update(DOCUMENTS, _key(event), changes | _stamp(event))


def _audit_closed(closed: bool) -> Callable[[EventEnvelope, Rows], None]:
    """The audit closed (or reopened): its reports show to clients (or not)."""

    def handle(event: EventEnvelope, store: Rows) -> None:
        tenant_id, audit_id = _key(event)
        store.upsert(
            DOCUMENT_AUDITS,
            {
                "tenant_id": tenant_id,
                "audit_id": audit_id,
                "closed": closed,
                "position": event.position,
            },
        )
        where = {"tenant_id": tenant_id, "audit_id": audit_id, "kind": REPORT}
        for row in store.find(DOCUMENTS, where):
            store.update(DOCUMENTS, (tenant_id, row["id"]), {"client_visible": closed})

    return handle


_HANDLERS: dict[str, Callable[[EventEnvelope, Rows], None]] = {
    REQUESTED: _requested,
    RENDERED: _rendered,
    RENDER_FAILED: _failed,
    AUDIT_CLOSED: _audit_closed(True),
    AUDIT_REOPENED: _audit_closed(False),
}


class DocumentProjection:
    """Builds the documents table.

    Attributes:
        name: ``documents``; its tables live in schema ``rm_documents``.
        tables: The documents, and each audit's closed state.
    """

    name = "documents"
    tables: tuple[Table, ...] = (DOCUMENTS_TABLE, DOCUMENT_AUDITS_TABLE)

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Apply one document event, or an audit's closing or reopening;
        others are ignored."""
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(event, store)
