"""Accounts read model (the users of a tenant): the projection and its table.

One row per account, from the ``account.*`` events: who was invited, their
status, roles, organization scope, whether they enrolled MFA, and when they
last logged in. ``version`` is the account aggregate's version after the last
event applied (every ``account.*`` event counts, security events included),
so it is the ETag that a command's ``If-Match`` on the account takes.

An erased person's row keeps its id, status and dates; its e-mail and name
read ``[erased]`` (the erasure event sets them, and a rebuild gets them from
the sealed fields, whose key is gone).

One account's events arrive in version order; an event whose version the
row already has (a redelivery) changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from projections.envelope import EventEnvelope
from projections.rows import Row, Rows, Table, columns

_PREFIX = "assurehub.account."
INVITED = f"{_PREFIX}invited.v1"
INVITATION_REISSUED = f"{_PREFIX}invitation_reissued.v1"
ACTIVATED = f"{_PREFIX}activated.v1"
ROLES_GRANTED = f"{_PREFIX}roles_granted.v1"
ROLES_REVOKED = f"{_PREFIX}roles_revoked.v1"
ORGANIZATION_SCOPE_CHANGED = f"{_PREFIX}organization_scope_changed.v1"
DEACTIVATED = f"{_PREFIX}deactivated.v1"
REACTIVATED = f"{_PREFIX}reactivated.v1"
MFA_ENROLLED = f"{_PREFIX}mfa_enrolled.v1"
MFA_RESET = f"{_PREFIX}mfa_reset.v1"
LOGIN_SUCCEEDED = f"{_PREFIX}login_succeeded.v1"
ERASED_EVENT = f"{_PREFIX}erased.v1"
ERASED = "[erased]"
"""What an erased person's e-mail and name read (``domain.personal.ERASED``)."""

STATUSES = ("invited", "active", "deactivated")
"""Values of the ``status`` column."""

ACCOUNTS = Table(
    "accounts",
    columns(
        'tenant_id text, id uuid, email text COLLATE "C", name text,'
        ' name_key text COLLATE "C", status text, roles text[],'
        " organization_ids uuid[], mfa_enrolled boolean, invited_at timestamptz,"
        " invitation_expires_at timestamptz?, activated_at timestamptz?,"
        " deactivated_at timestamptz?, last_login_at timestamptz?,"
        " version integer, position bigint"
    ),
    key=("tenant_id", "id"),
    indexes=(
        ("tenant_id", "email", "id"),
        ("tenant_id", "name_key", "id"),
        ("tenant_id", "invited_at", "id"),
        ("tenant_id", "last_login_at", "id"),
    ),
)
"""``email`` is stored lower-cased (as the domain keeps it); ``name_key`` is
the case-folded name that sorts by name."""


def name_key(name: str) -> str:
    """The sort key of a person's name (case-folded)."""
    return name.casefold()


class AccountsProjection:
    """Builds the ``accounts`` table from account events."""

    name = "accounts"
    tables: tuple[Table, ...] = (ACCOUNTS,)

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Apply one account event; other types are ignored."""
        if event.type == INVITED:
            store.insert(ACCOUNTS.name, _invited(event))
            return
        if not event.type.startswith(_PREFIX):
            return
        key = (event.tenant_id, UUID(event.subject))
        row = store.get(ACCOUNTS.name, key)
        if row is None or row["version"] >= event.aggregate_version:
            return  # no invitation to attach it to, or applied already
        changes = _changes(event, row)
        stamp = {"version": event.aggregate_version, "position": event.position}
        store.update(ACCOUNTS.name, key, {**changes, **stamp})


def _invited(event: EventEnvelope) -> Row:
    data = event.data
    return {
        "tenant_id": event.tenant_id,
        "id": UUID(event.subject),
        "email": data["email"],
        "name": data["name"],
        "name_key": name_key(data["name"]),
        "status": "invited",
        "roles": sorted(data["roles"]),
        "organization_ids": _uuids(data["organization_ids"]),
        "mfa_enrolled": False,
        "invited_at": event.time,
        "invitation_expires_at": datetime.fromisoformat(data["expires_at"]),
        "activated_at": None,
        "deactivated_at": None,
        "last_login_at": None,
        "version": event.aggregate_version,
        "position": event.position,
    }


def _uuids(values: list[str]) -> list[UUID]:
    return sorted(UUID(v) for v in values)


def _changes(event: EventEnvelope, row: Row) -> Row:
    """Columns of the account row an event sets (none: only the version and
    position move, e.g. for a failed login)."""
    data, kind = event.data, event.type
    if kind == INVITATION_REISSUED:
        return {"invitation_expires_at": datetime.fromisoformat(data["expires_at"])}
    if kind == ACTIVATED:
        return {
            "status": "active",
            "activated_at": event.time,
            "invitation_expires_at": None,
        }
    if kind == ROLES_GRANTED:
        return {"roles": sorted(set(row["roles"]) | set(data["roles"]))}
    if kind == ROLES_REVOKED:
        return {"roles": sorted(set(row["roles"]) - set(data["roles"]))}
    if kind == ORGANIZATION_SCOPE_CHANGED:
        return {"organization_ids": _uuids(data["organization_ids"])}
    if kind == DEACTIVATED:
        return {"status": "deactivated", "deactivated_at": event.time}
    if kind == REACTIVATED:
        status = "active" if row["activated_at"] is not None else "invited"
        return {"status": status, "deactivated_at": None}
    if kind in (MFA_ENROLLED, MFA_RESET):
        return {"mfa_enrolled": kind == MFA_ENROLLED}
    if kind == LOGIN_SUCCEEDED:
        return {"last_login_at": event.time}
    if kind == ERASED_EVENT:
        deactivated = row["deactivated_at"] or event.time
        return {
            "email": ERASED,
            "name": ERASED,
            "name_key": name_key(ERASED),
            "status": "deactivated",
            "deactivated_at": deactivated,
        }
    return {}
