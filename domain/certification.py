"""Whether an audit's outcome allows a certificate: the rule that spans the
:class:`~domain.audit.Audit` and :class:`~domain.certificate.Certificate`
aggregates.

A certificate, or a new revision of one, rests on one audit of the same
tenant that has a recorded decision to grant certification. The audit checks
its findings when the grant is recorded; they are checked again here, when
the certificate is issued, because the certificate must never be issued on
an outcome that no longer holds (a grant recorded under an earlier rule, or
findings changed by events since). Pure functions: the caller loads both
aggregates within the caller's tenant and saves what it builds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain.audit import Audit
from domain.audit_values import AuditType, DecisionOutcome, finding_ids
from domain.certificate_values import CertificateState
from domain.errors import InvalidValueError, RuleViolationError

FIRST_ISSUE_TYPES = frozenset({AuditType.STAGE_2})
"""A first certificate rests on a stage 2 audit (stage 1 only readies it)."""
REVISION_TYPES = frozenset({AuditType.RECERTIFICATION, AuditType.SPECIAL})
"""A renewal rests on a recertification audit, a scope change on a special one."""


@dataclass(frozen=True)
class CertificationBasis:
    """What a certificate takes from the audit it rests on.

    Attributes:
        audit_id: The audit whose grant decision the certificate rests on.
        organization_id: The audited, hence certified, organization.
        standard_name: The standard the audit was held against.
        standard_edition: Its edition.
        decision_date: When the grant was decided; the certificate takes
            effect on or after it.
    """

    audit_id: UUID
    organization_id: UUID
    standard_name: str
    standard_edition: str
    decision_date: date


def certification_basis(
    audit: Audit,
    site_ids: Iterable[UUID],
    types: frozenset[AuditType] = FIRST_ISSUE_TYPES,
) -> CertificationBasis:
    """The basis for certifying ``site_ids`` on ``audit``'s grant decision.

    Raises:
        RuleViolationError: ``certificate.audit_type_not_certifying`` (the
            audit's type is not one of ``types``),
            ``certificate.no_grant_decision`` (no decision recorded, or a
            refusal), ``certificate.open_major_nonconformity``
            (a major nonconformity not verified effective, closed or
            dismissed) or ``certificate.minor_without_accepted_plan`` (a
            minor nonconformity whose corrective-action plan is not accepted).
        InvalidValueError: ``site_scopes`` names a site the audit did not
            cover.
    """
    if audit.audit_type not in types:
        raise RuleViolationError(
            "certificate.audit_type_not_certifying",
            f"audit {audit.id} is a {audit.audit_type.value} audit; this "
            f"certificate must rest on a {' or '.join(sorted(types))} audit",
        )
    decision = audit.decision
    if decision is None or decision.outcome is not DecisionOutcome.GRANT:
        outcome = "no decision" if decision is None else decision.outcome.value
        raise RuleViolationError(
            "certificate.no_grant_decision",
            f"audit {audit.id} has {outcome} recorded, not a decision to grant "
            "certification",
        )
    if majors := audit.open_majors():
        raise RuleViolationError(
            "certificate.open_major_nonconformity",
            f"audit {audit.id} has major nonconformities {finding_ids(majors)} "
            "not verified effective: no certificate can rest on it",
        )
    if minors := audit.minors_without_accepted_plan():
        raise RuleViolationError(
            "certificate.minor_without_accepted_plan",
            f"audit {audit.id} has minor nonconformities {finding_ids(minors)} "
            "without an accepted corrective-action plan: no certificate can rest "
            "on it",
        )
    if outside := [s for s in site_ids if s not in audit.site_ids]:
        raise InvalidValueError(
            "site_scopes",
            f"sites {', '.join(map(str, outside))} were not covered by audit "
            f"{audit.id} and cannot be certified on it",
        )
    return CertificationBasis(
        audit_id=audit.id,
        organization_id=audit.organization_id,
        standard_name=audit.standard_name,
        standard_edition=audit.standard_edition,
        decision_date=decision.decided_on,
    )


def revision_basis(
    audit: Audit, previous: CertificateState, site_ids: Iterable[UUID]
) -> CertificationBasis:
    """The basis for a new revision of ``previous`` on ``audit``'s grant.

    The same checks as :func:`certification_basis` (on a recertification or
    special audit), and the audit must be of
    the organization and standard that ``previous`` certifies (a revision
    keeps both).

    Raises:
        RuleViolationError: as for :func:`certification_basis`.
        InvalidValueError: as for :func:`certification_basis`, or
            ``audit_id`` names an audit of another organization or standard.
    """
    basis = certification_basis(audit, site_ids, REVISION_TYPES)
    if (basis.organization_id, basis.standard_name) != (
        previous.organization_id,
        previous.standard_name,
    ):
        raise InvalidValueError(
            "audit_id",
            f"audit {audit.id} is of organization {basis.organization_id} against "
            f"{basis.standard_name!r}; certificate {previous.number} certifies "
            f"organization {previous.organization_id} against "
            f"{previous.standard_name!r}",
        )
    return basis


def check_audit_not_certified(
    audit_id: UUID, certificates: Iterable[CertificateState]
) -> None:
    """One audit's grant supports one certificate revision, not two.

    Raises:
        RuleViolationError: ``certificate.audit_already_certified`` when a
            certificate (any revision, in any status) rests on ``audit_id``.
    """
    for certificate in certificates:
        if certificate.audit_id == audit_id:
            raise RuleViolationError(
                "certificate.audit_already_certified",
                f"audit {audit_id} already supports certificate "
                f"{certificate.number} (revision {certificate.revision})",
            )
