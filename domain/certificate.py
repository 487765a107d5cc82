"""A certificate issued to a client organization after a certification decision.

Lifecycle of one revision (this module)::

    issue ──▶ active ──suspend──▶ suspended
                ▲                     │
                └─────reinstate───────┘
    active or suspended ──withdraw──▶ withdrawn    (irrevocable)
    active or suspended ──expire────▶ expired      (from the expiry date)
    active ──mark_superseded────────▶ superseded   (a newer revision exists)

An issued certificate is never edited in place. Renewal and scope change
issue a new revision: a new aggregate with the same number, ``revision + 1``
and ``supersedes`` naming the old one, which is then marked superseded and
stays readable. The expiry date is the first day the certificate is no longer
valid. Dates of lifecycle events never go backwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.certificate_values import (
    IN_FORCE,
    CertificateState,
    CertificateStatus,
    CertifiedSite,
    certificate_number,
    certified_sites,
    check_validity,
    new_verification_code,
)
from domain.errors import InvalidValueError, NotFoundError, RuleViolationError
from domain.events import EventMeta
from domain.values import bounded_text, date_range

STANDARD_NAME_MAX = 200
STANDARD_EDITION_MAX = 50
REASON_MAX = 2000
DEFAULT_MAX_SUSPENSION_DAYS = 183

_ACTIVE = frozenset({CertificateStatus.ACTIVE})
_SUSPENDED = frozenset({CertificateStatus.SUSPENDED})
_REFUSED_BECAUSE = {
    # Only reinstate refuses an active certificate.
    CertificateStatus.ACTIVE: "certificate.not_suspended",
    CertificateStatus.SUSPENDED: "certificate.suspended",
    CertificateStatus.WITHDRAWN: "certificate.withdrawn",
    CertificateStatus.EXPIRED: "certificate.expired",
    CertificateStatus.SUPERSEDED: "certificate.superseded",
}


class Certificate(CertificateState, Aggregate):
    """One revision of a certificate of one tenant.

    Its state (see :class:`~domain.certificate_values.CertificateState`) is
    read-only and changes only by applying the events below.
    """

    class Event(Aggregate.Event):
        """Base of Certificate events."""

        TYPE: ClassVar[str]
        meta: EventMeta

    class Issued(Event, Aggregate.Created):
        """A certificate, or a new revision of one, was issued.

        The verification code is printed on the certificate and is a secret:
        the published event carries only its SHA-256.
        """

        TYPE = "certificate.issued"
        DIGESTED: ClassVar[tuple[str, ...]] = ("verification_code",)
        number: str
        verification_code: str
        revision: int
        supersedes: UUID | None
        organization_id: UUID
        site_ids: tuple[UUID, ...]
        site_scopes: tuple[str, ...]
        standard_name: str
        standard_edition: str
        audit_id: UUID
        decision_date: date
        issue_date: date
        effective_date: date
        expiry_date: date

    class Suspended(Event):
        """The certificate was suspended, at most until ``suspended_until``."""

        TYPE = "certificate.suspended"
        reason: str
        suspended_on: date
        suspended_until: date

        def apply(self, aggregate: Certificate) -> None:
            aggregate._status = CertificateStatus.SUSPENDED
            aggregate._suspension_reason = self.reason
            aggregate._suspended_until = self.suspended_until
            aggregate._changed_on = self.suspended_on

    class Reinstated(Event):
        """The suspension was lifted and the certificate is active again."""

        TYPE = "certificate.reinstated"
        reinstated_on: date

        def apply(self, aggregate: Certificate) -> None:
            aggregate._status = CertificateStatus.ACTIVE
            aggregate._suspension_reason = None
            aggregate._suspended_until = None
            aggregate._changed_on = self.reinstated_on

    class Withdrawn(Event):
        """The certificate was withdrawn for good."""

        TYPE = "certificate.withdrawn"
        reason: str
        withdrawn_on: date

        def apply(self, aggregate: Certificate) -> None:
            aggregate._status = CertificateStatus.WITHDRAWN
            aggregate._changed_on = self.withdrawn_on

    class Expired(Event):
        """The certificate reached its expiry date and was recorded expired."""

        TYPE = "certificate.expired"
        expired_on: date

        def apply(self, aggregate: Certificate) -> None:
            aggregate._status = CertificateStatus.EXPIRED
            aggregate._changed_on = self.expired_on

    class Superseded(Event):
        """A newer revision of the certificate replaced this one."""

        TYPE = "certificate.superseded"
        superseded_by: UUID
        superseded_on: date

        def apply(self, aggregate: Certificate) -> None:
            aggregate._status = CertificateStatus.SUPERSEDED
            aggregate._superseded_by = self.superseded_by
            aggregate._changed_on = self.superseded_on

    def __init__(
        self,
        meta: EventMeta,
        number: str,
        verification_code: str,
        revision: int,
        supersedes: UUID | None,
        organization_id: UUID,
        site_ids: tuple[UUID, ...],
        site_scopes: tuple[str, ...],
        standard_name: str,
        standard_edition: str,
        audit_id: UUID,
        decision_date: date,
        issue_date: date,
        effective_date: date,
        expiry_date: date,
    ) -> None:
        self._tenant_id = meta.tenant_id
        self._number = number
        self._verification_code = verification_code
        self._revision = revision
        self._supersedes = supersedes
        self._organization_id = organization_id
        self._sites = tuple(
            CertifiedSite(i, s) for i, s in zip(site_ids, site_scopes, strict=True)
        )
        self._standard_name = standard_name
        self._standard_edition = standard_edition
        self._audit_id = audit_id
        self._decision_date = decision_date
        self._issue_date = issue_date
        self._effective_date = effective_date
        self._expiry_date = expiry_date
        self._status = CertificateStatus.ACTIVE
        self._changed_on = issue_date
        self._suspension_reason = None
        self._suspended_until = None
        self._superseded_by = None

    # -- creation -----------------------------------------------------------

    @classmethod
    def issue(
        cls,
        meta: EventMeta,
        *,
        number: str,
        organization_id: UUID,
        site_ids: Sequence[UUID],
        site_scopes: Sequence[str],
        standard_name: str,
        standard_edition: str,
        audit_id: UUID,
        decision_date: date,
        issue_date: date,
        effective_date: date,
        expiry_date: date,
    ) -> Certificate:
        """Issue the first revision of a certificate.

        A fresh verification code is generated for the public verification
        page. ``site_ids`` and ``site_scopes`` are parallel: one scope
        statement per site.

        Raises:
            InvalidValueError: badly formed number; no site, a site twice or
                not one scope per site; blank or over-long text; an issue date
                before the decision date or not before the expiry date.
            RuleViolationError: ``certificate.effective_before_decision``,
                ``certificate.expiry_not_after_effective`` or
                ``certificate.validity_too_long``.
        """
        return cls._issue(
            meta,
            number=certificate_number(number),
            revision=1,
            supersedes=None,
            organization_id=organization_id,
            site_ids=site_ids,
            site_scopes=site_scopes,
            standard_name=standard_name,
            standard_edition=standard_edition,
            audit_id=audit_id,
            decision_date=decision_date,
            issue_date=issue_date,
            effective_date=effective_date,
            expiry_date=expiry_date,
        )

    @classmethod
    def issue_revision(
        cls,
        meta: EventMeta,
        previous: Certificate,
        *,
        site_ids: Sequence[UUID],
        site_scopes: Sequence[str],
        standard_edition: str,
        audit_id: UUID,
        decision_date: date,
        issue_date: date,
        effective_date: date,
        expiry_date: date,
    ) -> Certificate:
        """Issue the next revision of ``previous`` (renewal or scope change).

        The new revision keeps the number, organization and standard of
        ``previous``, records ``supersedes=previous.id`` and gets a new
        verification code. ``previous`` is not changed here: the caller then
        records :meth:`mark_superseded` on it and saves both together.

        Raises:
            NotFoundError: ``previous`` belongs to another tenant.
            RuleViolationError: ``previous`` is not active (the rule is
                ``certificate.suspended``, ``certificate.withdrawn``,
                ``certificate.expired`` or ``certificate.superseded``), or a
                validity rule as for :meth:`issue`.
            InvalidValueError: as for :meth:`issue`, or an issue date before
                the last change of ``previous``.
        """
        if previous.tenant_id != meta.tenant_id:
            raise NotFoundError("certificate", previous.id)
        previous._require(_ACTIVE, "renewed or revised")
        date_range(
            previous.changed_on,
            issue_date,
            "the last change of the previous revision",
            "issue_date",
        )
        return cls._issue(
            meta,
            number=previous.number,
            revision=previous.revision + 1,
            supersedes=previous.id,
            organization_id=previous.organization_id,
            site_ids=site_ids,
            site_scopes=site_scopes,
            standard_name=previous.standard_name,
            standard_edition=standard_edition,
            audit_id=audit_id,
            decision_date=decision_date,
            issue_date=issue_date,
            effective_date=effective_date,
            expiry_date=expiry_date,
        )

    @classmethod
    def _issue(
        cls,
        meta: EventMeta,
        *,
        number: str,
        revision: int,
        supersedes: UUID | None,
        organization_id: UUID,
        site_ids: Sequence[UUID],
        site_scopes: Sequence[str],
        standard_name: str,
        standard_edition: str,
        audit_id: UUID,
        decision_date: date,
        issue_date: date,
        effective_date: date,
        expiry_date: date,
    ) -> Certificate:
        ids, scopes = certified_sites(site_ids, site_scopes)
        name = bounded_text(standard_name, "standard_name", STANDARD_NAME_MAX)
        edition = bounded_text(
            standard_edition, "standard_edition", STANDARD_EDITION_MAX
        )
        check_validity(number, audit_id, decision_date, effective_date, expiry_date)
        date_range(decision_date, issue_date, "decision_date", "issue_date")
        if issue_date >= expiry_date:
            raise InvalidValueError(
                "issue_date",
                f"issue_date ({issue_date}) must be before expiry_date ({expiry_date})",
            )
        return cls._create(
            cls.Issued,
            id=uuid4(),
            meta=meta,
            number=number,
            verification_code=new_verification_code(),
            revision=revision,
            supersedes=supersedes,
            organization_id=organization_id,
            site_ids=ids,
            site_scopes=scopes,
            standard_name=name,
            standard_edition=edition,
            audit_id=audit_id,
            decision_date=decision_date,
            issue_date=issue_date,
            effective_date=effective_date,
            expiry_date=expiry_date,
        )

    # -- commands -----------------------------------------------------------

    def suspend(
        self,
        meta: EventMeta,
        reason: str,
        on: date,
        max_suspension_days: int = DEFAULT_MAX_SUSPENSION_DAYS,
    ) -> None:
        """Suspend an active certificate for at most ``max_suspension_days``.

        Raises:
            RuleViolationError: not active (``certificate.suspended``,
                ``certificate.withdrawn``, ...), or ``certificate.lapsed`` when
                ``on`` is on or after the expiry date.
            InvalidValueError: blank or over-long reason, a maximum below one
                day, or ``on`` before the last change.
        """
        self._require(_ACTIVE, "suspended")
        text = bounded_text(reason, "reason", REASON_MAX, multiline=True)
        if max_suspension_days < 1:
            raise InvalidValueError(
                "max_suspension_days",
                f"max_suspension_days must be at least 1, got {max_suspension_days}",
            )
        self._require_in_force_on(on, "suspended")
        self.trigger_event(
            self.Suspended,
            meta=meta,
            reason=text,
            suspended_on=on,
            suspended_until=on + timedelta(days=max_suspension_days),
        )

    def reinstate(self, meta: EventMeta, on: date) -> None:
        """Lift the suspension; allowed up to and including ``suspended_until``.

        Raises:
            RuleViolationError: not suspended (``certificate.not_suspended``,
                ``certificate.withdrawn``, ...), ``certificate.lapsed`` when
                ``on`` is on or after the expiry date, or
                ``certificate.suspension_expired`` when ``on`` is after
                ``suspended_until`` (withdraw it instead).
            InvalidValueError: ``on`` before the suspension.
        """
        self._require(_SUSPENDED, "reinstated")
        self._require_in_force_on(on, "reinstated")
        if self._suspended_until is not None and on > self._suspended_until:
            raise RuleViolationError(
                "certificate.suspension_expired",
                f"certificate {self._label} was suspended until "
                f"{self._suspended_until}; on {on} it can only be withdrawn",
            )
        self.trigger_event(self.Reinstated, meta=meta, reinstated_on=on)

    def withdraw(self, meta: EventMeta, reason: str, on: date) -> None:
        """Withdraw an active or suspended certificate; this is irrevocable.

        Raises:
            RuleViolationError: ``certificate.withdrawn``,
                ``certificate.expired`` or ``certificate.superseded``, or
                ``certificate.lapsed`` when ``on`` is on or after the expiry date.
            InvalidValueError: blank or over-long reason, ``on`` before the
                last change.
        """
        self._require(IN_FORCE, "withdrawn")
        text = bounded_text(reason, "reason", REASON_MAX, multiline=True)
        self._require_in_force_on(on, "withdrawn")
        self.trigger_event(self.Withdrawn, meta=meta, reason=text, withdrawn_on=on)

    def expire(self, meta: EventMeta, on: date) -> None:
        """Record that an active or suspended certificate has expired.

        Raises:
            RuleViolationError: ``certificate.withdrawn``,
                ``certificate.expired`` or ``certificate.superseded``, or
                ``certificate.not_yet_expired`` when ``on`` is before the
                expiry date.
        """
        self._require(IN_FORCE, "expired")
        if on < self._expiry_date:
            raise RuleViolationError(
                "certificate.not_yet_expired",
                f"certificate {self._label} expires on {self._expiry_date}, "
                f"not yet on {on}",
            )
        self.trigger_event(self.Expired, meta=meta, expired_on=on)

    def mark_superseded(self, meta: EventMeta, by: UUID, on: date) -> None:
        """Record that revision ``by`` (see :meth:`issue_revision`) replaced this one.

        Raises:
            RuleViolationError: not active (``certificate.suspended``,
                ``certificate.withdrawn``, ``certificate.expired`` or
                ``certificate.superseded``).
            InvalidValueError: ``by`` is this certificate, ``on`` before the
                last change.
        """
        self._require(_ACTIVE, "superseded")
        if by == self.id:
            raise InvalidValueError(
                "by", f"certificate {self._label} cannot supersede itself"
            )
        self._require_not_before_last_change(on)
        self.trigger_event(
            self.Superseded, meta=meta, superseded_by=by, superseded_on=on
        )

    # -- guards -------------------------------------------------------------

    @property
    def _label(self) -> str:
        return f"{self._number} revision {self._revision} ({self.id})"

    def _require(self, allowed: frozenset[CertificateStatus], action: str) -> None:
        if self._status not in allowed:
            raise RuleViolationError(
                _REFUSED_BECAUSE[self._status],
                f"certificate {self._label} is {self._status.value} and cannot be "
                f"{action}",
            )

    def _require_not_before_last_change(self, on: date) -> None:
        date_range(self._changed_on, on, "the certificate's last change", "on")

    def _require_in_force_on(self, on: date, action: str) -> None:
        self._require_not_before_last_change(on)
        if on >= self._expiry_date:
            raise RuleViolationError(
                "certificate.lapsed",
                f"certificate {self._label} expired on {self._expiry_date} and "
                f"cannot be {action} on {on}; record its expiry instead",
            )
