"""Certificate registry and public verification read models.

One ``certificates`` row per certificate revision (one aggregate), for the
registry screens; one ``verifications`` row per revision, holding only what the
public verification page may show, for the one query that needs no login and
crosses tenants.

Order across aggregates: every row is built from its own aggregate's events
only, so no delivery order of other aggregates can leave it wrong. The
revision chain needs nothing more: the new revision's ``issued`` names the
revision it replaces (``previous_id``) and the old revision's own
``superseded`` names its successor (``superseded_by_id``). Until both have
arrived a registry may briefly show two current revisions of one number (or
none); once both have, the rows are the same whatever the order. The holder's
name is not copied either: the verification query joins
``rm_organizations.organizations`` on ``(tenant_id, organization_id)`` at query
time, which also shows a renamed holder at once.

Reading: ``superseded_by_id IS NULL`` selects each number's latest revision;
:func:`status_on` turns a recorded status into the one to show on a day (a
lapsed certificate is expired before its expiry event arrives). The public
lookup is ``number`` and ``verification_code_sha256 =``
:func:`verification_digest` of the typed code, across tenants, answering only
the ``verifications`` columns plus the holder's name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from domain.certificate_values import IN_FORCE, CertificateStatus
from projections.envelope import EventEnvelope
from projections.rows import Row, Rows, Table, columns

_PREFIX = "assurehub.certificate."
ISSUED = f"{_PREFIX}issued.v1"
SUSPENDED = f"{_PREFIX}suspended.v1"
REINSTATED = f"{_PREFIX}reinstated.v1"
WITHDRAWN = f"{_PREFIX}withdrawn.v1"
EXPIRED = f"{_PREFIX}expired.v1"
SUPERSEDED = f"{_PREFIX}superseded.v1"

CERTIFICATES = "certificates"
VERIFICATIONS = "verifications"


_PUBLIC = (
    "tenant_id text, id uuid, number text, revision integer, organization_id uuid,"
    " standard_name text, standard_edition text, sites jsonb, scope_text text,"
    " status text, effective_date date, expiry_date date,"
    " version integer, position bigint"
)

CERTIFICATES_TABLE = Table(
    CERTIFICATES,
    columns(
        f'{_PUBLIC}, number_sort text COLLATE "C",'
        " site_ids text[], previous_id uuid?, superseded_by_id uuid?,"
        " audit_id uuid, decision_date date, issue_date date, status_since date,"
        " suspended_on date?, suspended_until date?, suspension_reason text?,"
        " withdrawn_on date?, withdrawal_reason text?, expired_on date?,"
        " superseded_on date?, issued_at timestamptz, updated_at timestamptz"
    ),
    key=("tenant_id", "id"),
    indexes=(
        ("tenant_id", "number_sort", "revision"),
        ("tenant_id", "organization_id"),
        ("tenant_id", "status", "expiry_date"),
        ("tenant_id", "expiry_date"),
        ("tenant_id", "audit_id"),
    ),
)
"""The registry: one row per certificate revision."""

VERIFICATIONS_TABLE = Table(
    VERIFICATIONS,
    columns(f"{_PUBLIC}, verification_code_sha256 text"),
    key=("tenant_id", "id"),
    indexes=(("number", "verification_code_sha256"),),
)
"""Public verification: a revision's public facts and its code's digest."""


def verification_digest(code: str) -> str:
    """The digest to look a typed verification code up by.

    The code is upper-cased and stripped of spaces and hyphens (which its
    alphabet never uses) before hashing, the way the issued event's
    ``verification_code_sha256`` was made from the printed code.
    """
    typed = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(typed.encode()).hexdigest()


def status_on(status: str, expiry_date: date, day: date) -> str:
    """The status to show on ``day``: expired from the expiry date onwards.

    The recorded status changes only when the expiry event arrives; a reader
    must not show a lapsed certificate as active meanwhile.
    """
    if CertificateStatus(status) in IN_FORCE and day >= expiry_date:
        return CertificateStatus.EXPIRED.value
    return status


EFFECTIVE_FIELDS = {
    ISSUED: "effective_date",
    SUSPENDED: "suspended_on",
    REINSTATED: "reinstated_on",
    WITHDRAWN: "withdrawn_on",
    EXPIRED: "expired_on",
    SUPERSEDED: "superseded_on",
}
"""The field of each certificate event naming the day it takes effect."""


def effective_on(event: EventEnvelope) -> date | None:
    """The day a certificate event takes effect (``None``: not one of them)."""
    name = EFFECTIVE_FIELDS.get(event.type)
    return None if name is None else _day(event.data[name])


def number_sort_key(number: str) -> str:
    """``number`` with its serial zero-padded to 8 digits, so it sorts in order."""
    prefix, year, serial = number.rsplit("-", 2)
    return f"{prefix}-{year}-{serial.zfill(8)}"


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _stamp(event: EventEnvelope) -> Row:
    return {"version": event.aggregate_version, "position": event.position}


def _key(event: EventEnvelope) -> tuple[str, UUID]:
    return (event.tenant_id, UUID(event.subject))


def _public(event: EventEnvelope) -> Row:
    """The columns both tables share, from an issued event."""
    data: dict[str, Any] = event.data
    scopes: list[str] = data["site_scopes"]
    return {
        "tenant_id": event.tenant_id,
        "id": UUID(event.subject),
        "number": data["number"],
        "revision": data["revision"],
        "organization_id": UUID(data["organization_id"]),
        "standard_name": data["standard_name"],
        "standard_edition": data["standard_edition"],
        "sites": [
            {"site_id": site_id, "scope": scope}
            for site_id, scope in zip(data["site_ids"], scopes, strict=True)
        ],
        "scope_text": "\n".join(scopes),
        "status": CertificateStatus.ACTIVE.value,
        "effective_date": _day(data["effective_date"]),
        "expiry_date": _day(data["expiry_date"]),
        **_stamp(event),
    }


def _issued(event: EventEnvelope, store: Rows) -> None:
    data: dict[str, Any] = event.data
    public = _public(event)
    supersedes = data["supersedes"]
    issue_date = _day(data["issue_date"])
    store.insert(
        CERTIFICATES,
        public
        | {
            "number_sort": number_sort_key(data["number"]),
            "site_ids": list(data["site_ids"]),
            "previous_id": UUID(supersedes) if supersedes else None,
            "superseded_by_id": None,
            "audit_id": UUID(data["audit_id"]),
            "decision_date": _day(data["decision_date"]),
            "issue_date": issue_date,
            "status_since": issue_date,
            "issued_at": event.time,
            "updated_at": event.time,
        },
    )
    store.insert(
        VERIFICATIONS,
        public | {"verification_code_sha256": data["verification_code_sha256"]},
    )


def _change(
    event: EventEnvelope,
    store: Rows,
    status: CertificateStatus,
    since: str,
    **more: Any,
) -> None:
    """Record a lifecycle event: its status from ``data[since]``, and ``more``."""
    key = _key(event)
    public = {"status": status.value, **_stamp(event)}
    changes = {"status_since": _day(event.data[since]), "updated_at": event.time}
    store.update(CERTIFICATES, key, public | changes | more)
    store.update(VERIFICATIONS, key, public)


def _suspended(event: EventEnvelope, store: Rows) -> None:
    data = event.data
    _change(
        event,
        store,
        CertificateStatus.SUSPENDED,
        "suspended_on",
        suspended_on=_day(data["suspended_on"]),
        suspended_until=_day(data["suspended_until"]),
        suspension_reason=data["reason"],
    )


def _reinstated(event: EventEnvelope, store: Rows) -> None:
    _change(
        event,
        store,
        CertificateStatus.ACTIVE,
        "reinstated_on",
        suspended_on=None,
        suspended_until=None,
        suspension_reason=None,
    )


def _withdrawn(event: EventEnvelope, store: Rows) -> None:
    data = event.data
    _change(
        event,
        store,
        CertificateStatus.WITHDRAWN,
        "withdrawn_on",
        withdrawn_on=_day(data["withdrawn_on"]),
        withdrawal_reason=data["reason"],
    )


def _expired(event: EventEnvelope, store: Rows) -> None:
    on = _day(event.data["expired_on"])
    _change(event, store, CertificateStatus.EXPIRED, "expired_on", expired_on=on)


def _superseded(event: EventEnvelope, store: Rows) -> None:
    data = event.data
    _change(
        event,
        store,
        CertificateStatus.SUPERSEDED,
        "superseded_on",
        superseded_on=_day(data["superseded_on"]),
        superseded_by_id=UUID(data["superseded_by"]),
    )


_HANDLERS: dict[str, Callable[[EventEnvelope, Rows], None]] = {
    ISSUED: _issued,
    SUSPENDED: _suspended,
    REINSTATED: _reinstated,
    WITHDRAWN: _withdrawn,
    EXPIRED: _expired,
    SUPERSEDED: _superseded,
}


class CertificateProjection:
    """Builds the certificate registry and public verification tables.

    Attributes:
        name: ``certificates``; its tables live in schema ``rm_certificates``.
        tables: ``certificates`` and ``verifications``.
    """

    name = "certificates"
    tables: tuple[Table, ...] = (CERTIFICATES_TABLE, VERIFICATIONS_TABLE)

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Apply one certificate event; other types are ignored."""
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(event, store)
