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

A login (``account.login_succeeded``) calls for a ``new_login`` e-mail to the
account when it comes from an address the account has not logged in from
before; the account's first login ever does not. The addresses an account
has used are kept in ``login_addresses`` as the SHA-256 of the address (never
the address itself), keyed by tenant, account and hash; ``account.erased``
deletes the person's rows and any of their ``new_login`` intents not yet
handled, so nothing of their addresses stays.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from domain.audit_values import Grade
from domain.notifications import NotificationKind
from projections.envelope import EventEnvelope
from projections.rows import Rows, Table, columns

_AUDIT = "assurehub.audit."
_CERTIFICATE = "assurehub.certificate."
LOGIN_SUCCEEDED = "assurehub.account.login_succeeded.v1"
ACCOUNT_ERASED = "assurehub.account.erased.v1"
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

LOGIN_ADDRESSES = Table(
    "login_addresses",
    columns("tenant_id text, account_id uuid, address_hash text"),
    key=("tenant_id", "account_id", "address_hash"),
)
"""The addresses each account has logged in from, as SHA-256 hex digests."""


class NotificationIntentsProjection:
    """Keeps the events still to be turned into e-mails."""

    name = "notifications"
    tables: tuple[Table, ...] = (INTENTS, LOGIN_ADDRESSES)

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Add an intent for an event that calls for a notification."""
        if event.type == LOGIN_SUCCEEDED:
            _login(event, store)
            return
        if event.type == ACCOUNT_ERASED:
            _forget(event, store)
            return
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


def address_hash(address: str) -> str:
    """What ``login_addresses`` keeps of an address: its SHA-256 (hex)."""
    return hashlib.sha256(address.encode()).hexdigest()


def _login(event: EventEnvelope, store: Rows) -> None:
    """Remember the login's address; a new one (not the first) calls for a
    ``new_login`` e-mail with the time and the address."""
    address = event.data.get("address")
    if not address or address == "[erased]":
        return
    account = UUID(event.subject)
    where = {"tenant_id": event.tenant_id, "account_id": account}
    row = {**where, "address_hash": address_hash(str(address))}
    if store.get(LOGIN_ADDRESSES.name, LOGIN_ADDRESSES.key_of(row)) is not None:
        return
    first = not store.find(LOGIN_ADDRESSES.name, where)
    store.insert(LOGIN_ADDRESSES.name, row)
    if first or store.get(INTENTS.name, (event.tenant_id, event.id)) is not None:
        return
    intent = intent_row(event, NotificationKind.NEW_LOGIN)
    intent["facts"] = {"address": str(address), "at": event.time.isoformat()}
    store.insert(INTENTS.name, intent)


def _forget(event: EventEnvelope, store: Rows) -> None:
    """An erased person's addresses: their hashes and unsent login e-mails."""
    account = UUID(event.subject)
    where = {"tenant_id": event.tenant_id, "account_id": account}
    for row in store.find(LOGIN_ADDRESSES.name, where):
        store.delete(LOGIN_ADDRESSES.name, LOGIN_ADDRESSES.key_of(row))
    pending = {
        "tenant_id": event.tenant_id,
        "subject_id": account,
        "kind": NotificationKind.NEW_LOGIN.value,
    }
    for row in store.find(INTENTS.name, pending):
        store.delete(INTENTS.name, (event.tenant_id, row["event_id"]))
