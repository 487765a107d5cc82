"""What people are notified about, and which notifications they may refuse.

Each :class:`NotificationKind` is one reason for an e-mail. Security
messages (an invitation, a password reset, a login from a new address) are
always sent; every other kind can be switched off by the person, and its
default set by the tenant's administrators.
"""

from __future__ import annotations

from enum import StrEnum


class NotificationKind(StrEnum):
    """Why a person receives an e-mail."""

    # reactions to events
    TEAM_ASSIGNED = "team_assigned"
    SUBMITTED_FOR_REVIEW = "submitted_for_review"
    RETURNED_FOR_REWORK = "returned_for_rework"
    DECISION_NEEDED = "decision_needed"
    FINDING_RAISED = "finding_raised"
    RESPONSE_SUBMITTED = "response_submitted"
    RESPONSE_REJECTED = "response_rejected"
    CERTIFICATE_ISSUED = "certificate_issued"
    CERTIFICATE_SUSPENDED = "certificate_suspended"
    CERTIFICATE_REINSTATED = "certificate_reinstated"
    CERTIFICATE_WITHDRAWN = "certificate_withdrawn"
    # scheduled
    CORRECTIVE_ACTION_DUE = "corrective_action_due"
    CORRECTIVE_ACTION_OVERDUE = "corrective_action_overdue"
    CERTIFICATE_EXPIRING = "certificate_expiring"
    CERTIFICATE_EXPIRED = "certificate_expired"
    SURVEILLANCE_DUE = "surveillance_due"
    # security
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind, not a secret
    NEW_LOGIN = "new_login"

    @property
    def optional(self) -> bool:
        """Whether a person may switch this kind off (security kinds not)."""
        return self not in SECURITY_KINDS


SECURITY_KINDS = frozenset(
    {
        NotificationKind.INVITATION,
        NotificationKind.PASSWORD_RESET,
        NotificationKind.NEW_LOGIN,
    }
)
"""Kinds that are always sent."""

OPTIONAL_KINDS = tuple(k for k in NotificationKind if k.optional)
"""Kinds a person may switch off, in a stable order."""
