"""Values and state of the certificate aggregate.

Status, number, verification code, certified sites, the validity rules and
the read-only :class:`CertificateState` live here so that
:mod:`domain.certificate` holds only the lifecycle (events and commands).
Every check raises a domain error naming the field or the rule.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from domain.errors import InvalidValueError, RuleViolationError
from domain.values import bounded_text

NUMBER_PATTERN = re.compile(r"[A-Z0-9]{2,12}-[0-9]{4}-[0-9]{4,8}")
"""Format of a certificate number, e.g. ``ACME-2026-000123``."""

VERIFICATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Upper-case letters and digits without the look-alikes 0/O, 1/I/L."""
VERIFICATION_CODE_LENGTH = 20
"""About 99 bits of randomness: 20 symbols of a 31-symbol alphabet."""

MAX_VALIDITY_YEARS = 3
SCOPE_MAX = 2000


class CertificateStatus(StrEnum):
    """Recorded status of one certificate revision; changed only by events."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


IN_FORCE = frozenset({CertificateStatus.ACTIVE, CertificateStatus.SUSPENDED})
"""Statuses in which a certificate still counts until its expiry date."""


@dataclass(frozen=True)
class CertifiedSite:
    """A site the certificate covers and the scope certified there."""

    site_id: UUID
    scope: str


def certificate_number(value: str) -> str:
    """``value`` if it is a well-formed certificate number.

    The number itself (unique across the platform) is chosen by the caller;
    only its format is checked here. Nothing is normalised: a number has one
    spelling.

    Raises:
        InvalidValueError: ``value`` does not match :data:`NUMBER_PATTERN`.
    """
    if NUMBER_PATTERN.fullmatch(value) is None:
        raise InvalidValueError(
            "number",
            f"number must look like ACME-2026-000123 (2-12 upper-case letters or "
            f"digits, a 4-digit year, a 4-8 digit serial), got {value!r}",
        )
    return value


def new_verification_code() -> str:
    """A fresh unguessable code for the public verification page."""
    return "".join(
        secrets.choice(VERIFICATION_ALPHABET) for _ in range(VERIFICATION_CODE_LENGTH)
    )


def certified_sites(
    site_ids: Sequence[UUID], site_scopes: Sequence[str]
) -> tuple[tuple[UUID, ...], tuple[str, ...]]:
    """The parallel site ids and scope statements, checked and tidied.

    Raises:
        InvalidValueError: no site, a site listed twice, not one scope per
            site, or a blank or over-long scope statement.
    """
    if not site_ids:
        raise InvalidValueError(
            "site_ids", "a certificate must cover at least one site"
        )
    if len(site_ids) != len(site_scopes):
        raise InvalidValueError(
            "site_scopes",
            f"site_scopes must give one scope per site: {len(site_scopes)} scopes "
            f"for {len(site_ids)} sites",
        )
    seen: set[UUID] = set()
    for site_id in site_ids:
        if site_id in seen:
            raise InvalidValueError("site_ids", f"site {site_id} is listed twice")
        seen.add(site_id)
    scopes = tuple(
        bounded_text(s, "site_scopes", SCOPE_MAX, multiline=True) for s in site_scopes
    )
    return tuple(site_ids), scopes


def years_after(day: date, years: int) -> date:
    """The same month and day ``years`` later; 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def check_validity(
    number: str,
    audit_id: UUID,
    decision_date: date,
    effective_date: date,
    expiry_date: date,
) -> None:
    """Raise unless the validity period suits the decision it rests on.

    The certificate is valid from ``effective_date`` up to the day before
    ``expiry_date``; the expiry date may fall at most on the same month and
    day :data:`MAX_VALIDITY_YEARS` later.

    Raises:
        RuleViolationError: ``certificate.effective_before_decision``,
            ``certificate.expiry_not_after_effective`` or
            ``certificate.validity_too_long``.
    """
    if effective_date < decision_date:
        raise RuleViolationError(
            "certificate.effective_before_decision",
            f"certificate {number} cannot take effect on {effective_date}, before "
            f"the certification decision of {decision_date} on audit {audit_id}",
        )
    if expiry_date <= effective_date:
        raise RuleViolationError(
            "certificate.expiry_not_after_effective",
            f"certificate {number} would expire on {expiry_date}, not after it "
            f"takes effect on {effective_date}",
        )
    latest = years_after(effective_date, MAX_VALIDITY_YEARS)
    if expiry_date > latest:
        raise RuleViolationError(
            "certificate.validity_too_long",
            f"certificate {number} would be valid from {effective_date} to "
            f"{expiry_date}, more than {MAX_VALIDITY_YEARS} years; it must expire "
            f"on {latest} at the latest",
        )


class CertificateState:
    """Read-only view of a certificate revision's state.

    :class:`domain.certificate.Certificate` fills these attributes in its
    ``__init__`` and event ``apply`` methods only; everything else reads them
    through the properties below (cross-aggregate rules, read models).
    """

    _tenant_id: str
    _number: str
    _verification_code: str
    _revision: int
    _supersedes: UUID | None
    _organization_id: UUID
    _sites: tuple[CertifiedSite, ...]
    _standard_name: str
    _standard_edition: str
    _audit_id: UUID
    _decision_date: date
    _issue_date: date
    _effective_date: date
    _expiry_date: date
    _status: CertificateStatus
    _changed_on: date
    _suspension_reason: str | None
    _suspended_until: date | None
    _superseded_by: UUID | None

    def status_on(self, day: date) -> CertificateStatus:
        """The recorded status, reported expired from the expiry date onwards.

        For reporting only: the recorded :attr:`status` changes only by events.
        """
        if self._status in IN_FORCE and day >= self._expiry_date:
            return CertificateStatus.EXPIRED
        return self._status

    def is_active_on(self, day: date) -> bool:
        """Whether the certificate, as recorded now, is in effect on ``day``."""
        return (
            self.status_on(day) is CertificateStatus.ACTIVE
            and day >= self._effective_date
        )

    @property
    def tenant_id(self) -> str:
        """Tenant that issued the certificate."""
        return self._tenant_id

    @property
    def number(self) -> str:
        """Human-readable number, shared by all revisions."""
        return self._number

    @property
    def verification_code(self) -> str:
        """Unguessable code of this revision for the public verification page."""
        return self._verification_code

    @property
    def revision(self) -> int:
        """1 for the first issue, one more for each later revision."""
        return self._revision

    @property
    def supersedes(self) -> UUID | None:
        """Id of the revision this one replaced, if any."""
        return self._supersedes

    @property
    def superseded_by(self) -> UUID | None:
        """Id of the revision that replaced this one, once superseded."""
        return self._superseded_by

    @property
    def organization_id(self) -> UUID:
        """The certified client organization."""
        return self._organization_id

    @property
    def sites(self) -> tuple[CertifiedSite, ...]:
        """Covered sites with the scope certified at each."""
        return self._sites

    @property
    def standard_name(self) -> str:
        """Name of the standard certified against, e.g. ``ISO 9001``."""
        return self._standard_name

    @property
    def standard_edition(self) -> str:
        """Edition of the standard, e.g. ``2015``."""
        return self._standard_edition

    @property
    def audit_id(self) -> UUID:
        """The audit the certification decision rests on."""
        return self._audit_id

    @property
    def decision_date(self) -> date:
        """Date of the certification decision."""
        return self._decision_date

    @property
    def issue_date(self) -> date:
        """Date the certificate revision was issued."""
        return self._issue_date

    @property
    def effective_date(self) -> date:
        """First day the certificate is valid."""
        return self._effective_date

    @property
    def expiry_date(self) -> date:
        """First day the certificate is no longer valid."""
        return self._expiry_date

    @property
    def status(self) -> CertificateStatus:
        """Recorded status; changes only by events."""
        return self._status

    @property
    def changed_on(self) -> date:
        """Date of the latest lifecycle event (the issue date at first)."""
        return self._changed_on

    @property
    def suspension_reason(self) -> str | None:
        """Why the certificate is suspended, while it is."""
        return self._suspension_reason

    @property
    def suspended_until(self) -> date | None:
        """Last day a reinstatement is allowed, while suspended."""
        return self._suspended_until
