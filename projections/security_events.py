"""Security events read model: one row per security-relevant identity event.

Compliance officers and tenant administrators read it as an audit trail of
logins, lockouts, sessions, MFA, role changes, account lifecycle, API tokens,
tenant security settings, and mismatches the log watcher found in the
tenant's hash-chained event log. Each row is keyed by the event's id, so a
redelivered event changes nothing.

Personal data stays out of ``detail``: it keeps only the fields listed in
:data:`DETAIL_FIELDS` (plus a few per kind that name no person, e.g. an API
token's name), so an email or a person's name never lands there, even when
an event gains a field later. The network address a login came from is
personal but needed to investigate attacks: it has its own ``address``
column, where erasure finds it (``account.erased`` makes the person's
addresses read ``[erased]``).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from projections.envelope import EventEnvelope
from projections.rows import Rows, Table, columns

KINDS: tuple[str, ...] = (
    "account.login_succeeded",
    "account.login_failed",
    "account.locked_out",
    "account.logged_out",
    "account.mfa_challenged",
    "account.sessions_revoked",
    "account.mfa_enrolled",
    "account.mfa_reset",
    "account.recovery_codes_regenerated",
    "account.roles_granted",
    "account.roles_revoked",
    "account.organization_scope_changed",
    "account.invited",
    "account.activated",
    "account.deactivated",
    "account.reactivated",
    "account.password_changed",
    "account.password_reset_requested",
    "account.legal_hold_set",
    "account.legal_hold_cleared",
    "account.erased",
    "api_token.issued",
    "api_token.revoked",
    "tenant.created",
    "tenant_settings.mfa_policy_changed",
    "event_log.mismatch_detected",
    "event_log.alert_resolved",
)
"""Every kind recorded: the public type without prefix and version."""

DETAIL_FIELDS = frozenset(
    {
        "roles",
        "organization_ids",
        "scopes",
        "reason",
        "method",
        "stage",
        "until",
        "session_id",
        "expires_at",
        "prefix",
        "required_for_all",
        "required_roles",
    }
)
"""Event fields copied into ``detail`` for every kind: none names a person."""

NAMED_THINGS: dict[str, frozenset[str]] = {
    "tenant.created": frozenset({"name"}),
    "api_token.issued": frozenset({"name"}),
    "event_log.mismatch_detected": frozenset(
        {"alert_id", "position", "problem", "detail", "segment_from", "segment_to"}
    ),
    "event_log.alert_resolved": frozenset({"alert_id"}),
}
"""Fields kept per kind besides :data:`DETAIL_FIELDS`: a tenant's or a service
credential's ``name`` (not a person's), and what the log watcher found (a
position, the verifier's finding, the segment it verified)."""

_PUBLIC_TYPE = re.compile(r"^assurehub\.(?P<kind>[a-z_.]+)\.v[0-9]+$")
_RECORDED = frozenset(KINDS)

SECURITY_EVENTS = Table(
    "security_events",
    columns(
        "tenant_id text, id uuid, position bigint, occurred_at timestamptz,"
        ' kind text COLLATE "C", subject_id uuid, actor_id text, address text?,'
        " detail jsonb"
    ),
    key=("tenant_id", "id"),
    indexes=(
        ("tenant_id", "occurred_at", "id"),
        ("tenant_id", "position", "id"),
        ("tenant_id", "kind", "occurred_at", "id"),
        ("tenant_id", "subject_id", "occurred_at", "id"),
        ("tenant_id", "actor_id", "occurred_at", "id"),
    ),
)
"""One row per event; ``id`` is the event's id (``ce_id``)."""


def kind_of(event_type: str) -> str | None:
    """The kind of a public type (``assurehub.account.login_failed.v1`` →
    ``account.login_failed``); ``None`` if it is not a public type."""
    match = _PUBLIC_TYPE.match(event_type)
    return match["kind"] if match else None


def detail_of(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``data`` a security row keeps: no personal data."""
    kept = DETAIL_FIELDS | NAMED_THINGS.get(kind, frozenset())
    return {name: value for name, value in data.items() if name in kept}


class SecurityEventsProjection:
    """Builds the ``security_events`` table from identity events.

    Rows are inserted, never changed: an event recorded once stays as it was,
    and a redelivery finds its key taken.
    """

    name = "security_events"
    tables: tuple[Table, ...] = (SECURITY_EVENTS,)

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Record one security event; other types are ignored."""
        kind = kind_of(event.type)
        if kind is None or kind not in _RECORDED:
            return
        address = event.data.get("address")
        if kind == "account.erased":
            _forget_addresses(store, event.tenant_id, UUID(event.subject))
        store.insert(
            SECURITY_EVENTS.name,
            {
                "tenant_id": event.tenant_id,
                "id": UUID(event.id),
                "position": event.position,
                "occurred_at": event.time,
                "kind": kind,
                "subject_id": UUID(event.subject),
                "actor_id": event.actor_id,
                "address": str(address) if address is not None else None,
                "detail": detail_of(kind, event.data),
            },
        )


def _forget_addresses(store: Rows, tenant_id: str, subject_id: UUID) -> None:
    """An erased person's login addresses read ``[erased]``."""
    where = {"tenant_id": tenant_id, "subject_id": subject_id}
    for row in store.find(SECURITY_EVENTS.name, where):
        if row["address"] is not None:
            key = (tenant_id, row["id"])
            store.update(SECURITY_EVENTS.name, key, {"address": "[erased]"})
