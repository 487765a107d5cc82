"""The notification processor's work: events that call for e-mails.

An event that someone should hear about (see :data:`KIND_OF`) adds one
``intents`` row, keyed by tenant and event id, in the runner's tracking
transaction: a redelivered event finds its row and adds nothing. The
notification processor (``processors.notifications``) turns each row into
one outbox message per recipient and removes it; the outbox is keyed by
event and recipient, so a row handled twice still sends each person one
e-mail. Besides the facts of the event, the processor keeps its own
bookkeeping in each row (attempts, when it is due again, the last error).

A finding raised only calls for an e-mail when it is a nonconformity:
observations and opportunities for improvement ask nothing of the client.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.audit_values import Grade
from domain.notifications import NotificationKind
from projections.envelope import EventEnvelope
from projections.rows import Rows, Table, columns

_AUDIT = "assurehub.audit."
_CERTIFICATE = "assurehub.certificate."
_K = NotificationKind

KIND_OF: dict[str, NotificationKind] = {
    f"{_AUDIT}team_assigned.v1": _K.TEAM_ASSIGNED,
    f"{_AUDIT}submitted_for_review.v1": _K.SUBMITTED_FOR_REVIEW,
    f"{_AUDIT}returned_for_rework.v1": _K.RETURNED_FOR_REWORK,
    f"{_AUDIT}review_approved.v1": _K.DECISION_NEEDED,
    f"{_AUDIT}finding_raised.v1": _K.FINDING_RAISED,
    f"{_AUDIT}response_submitted.v1": _K.RESPONSE_SUBMITTED,
    f"{_AUDIT}response_rejected.v1": _K.RESPONSE_REJECTED,
    f"{_CERTIFICATE}issued.v1": _K.CERTIFICATE_ISSUED,
    f"{_CERTIFICATE}suspended.v1": _K.CERTIFICATE_SUSPENDED,
    f"{_CERTIFICATE}reinstated.v1": _K.CERTIFICATE_REINSTATED,
    f"{_CERTIFICATE}withdrawn.v1": _K.CERTIFICATE_WITHDRAWN,
    f"{_CERTIFICATE}expired.v1": _K.CERTIFICATE_EXPIRED,
}
"""Event types that call for a notification, and its kind."""

_FACTS = (
    "finding_id",
    "clause_id",
    "grade",
    "technical_reviewer",
    "lead_auditor",
    "auditors",
    "technical_experts",
    "observers",
)
"""Event fields an e-mail may use (none a client may not see)."""

INTENTS = Table(
    "intents",
    columns(
        "tenant_id text, event_id text, kind text, subject_id uuid, facts jsonb,"
        " position bigint, attempts integer, due_at timestamptz?,"
        " last_error text?"
    ),
    key=("tenant_id", "event_id"),
    indexes=(("position",),),
)


class NotificationIntentsProjection:
    """Keeps the events still to be turned into e-mails."""

    name = "notifications"
    tables: tuple[Table, ...] = (INTENTS,)

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Add an intent for an event that calls for a notification."""
        kind = KIND_OF.get(event.type)
        if kind is None or not _calls_for_mail(kind, event.data):
            return
        if store.get(INTENTS.name, (event.tenant_id, event.id)) is not None:
            return
        store.insert(INTENTS.name, intent_row(event, kind))


def _calls_for_mail(kind: NotificationKind, data: dict[str, Any]) -> bool:
    if kind is NotificationKind.FINDING_RAISED:
        return Grade(data["grade"]).is_nonconformity
    return True


def intent_row(event: EventEnvelope, kind: NotificationKind) -> dict[str, Any]:
    """The ``intents`` row for ``event``."""
    return {
        "tenant_id": event.tenant_id,
        "event_id": event.id,
        "kind": kind.value,
        "subject_id": UUID(event.subject),
        "facts": {k: event.data[k] for k in _FACTS if k in event.data},
        "position": event.position,
        "attempts": 0,
        "due_at": None,
        "last_error": None,
    }
