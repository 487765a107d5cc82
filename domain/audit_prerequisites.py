"""What planning an audit requires of other aggregates: a domain service.

An :class:`~domain.audit.Audit` checks its own values; whether it may be
planned at all depends on aggregates it does not own:

- the :class:`~domain.organization.Organization`: not archived
  (``audit.organization_archived``), and every audited site one of its
  current sites (an invalid ``site_ids``);
- the :class:`~domain.standard_template.StandardTemplate`: the version audited
  against is published (``audit.template_version_not_published``); the
  standard's name and edition are taken from it;
- the certification cycle, for the same organization and standard: a
  ``stage_2`` audit needs a closed ``stage_1`` audit
  (``audit.stage_1_not_closed``); a ``surveillance`` audit needs a
  certificate active on the day it is planned (``audit.no_active_certificate``).

These are checks against the other aggregates as loaded, not invariants kept
in one transaction: an organization archived a moment after an audit was
planned does not undo the plan. The functions here are pure: the caller loads
the aggregates and passes them in, and the candidates for the certification
cycle may be a lazy iterable, consumed only when the audit type needs them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain.audit import Audit
from domain.audit_values import AuditStatus, AuditType
from domain.certificate import Certificate
from domain.errors import InvalidValueError, NotFoundError, RuleViolationError
from domain.events import EventMeta
from domain.organization import Organization
from domain.standard_template import StandardTemplate


@dataclass(frozen=True)
class AuditedStandard:
    """The published template version an audit works from."""

    template_id: UUID
    version: int
    name: str
    edition: str


def plan_audit(
    meta: EventMeta,
    *,
    organization: Organization,
    template: StandardTemplate,
    standard_version: int,
    site_ids: Iterable[UUID],
    audit_type: AuditType | str,
    planned_start: date,
    planned_end: date,
    scope_statement: str,
    earlier_audits: Iterable[Audit],
    certificates: Iterable[Certificate],
    on: date,
) -> Audit:
    """Plan an audit once the organization, template and cycle allow it.

    Args:
        earlier_audits: Audits that may be the organization's stage 1 for the
            standard; read only for a stage 2 audit.
        certificates: Certificates that may be the organization's for the
            standard; read only for a surveillance audit.
        on: The day the audit is planned (a certificate must be active then).

    Raises:
        NotFoundError: the organization or template is another tenant's.
        InvalidValueError: a site that is not a current site of the
            organization, or a value :meth:`Audit.plan` refuses.
        RuleViolationError: ``audit.organization_archived``,
            ``audit.template_version_not_published``,
            ``audit.stage_1_not_closed``, ``audit.no_active_certificate``.
    """
    sites = tuple(site_ids)
    check_organization(meta, organization, sites)
    standard = audited_standard(meta, template, standard_version)
    audit = Audit.plan(
        meta,
        organization_id=organization.id,
        site_ids=sites,
        standard_template_id=standard.template_id,
        standard_version=standard.version,
        standard_name=standard.name,
        standard_edition=standard.edition,
        audit_type=audit_type,
        planned_start=planned_start,
        planned_end=planned_end,
        scope_statement=scope_statement,
    )
    check_certification_cycle(audit, earlier_audits, certificates, on)
    return audit


def check_organization(
    meta: EventMeta, organization: Organization, site_ids: Iterable[UUID]
) -> None:
    """Raise unless ``organization`` may have a new audit of ``site_ids``.

    Raises:
        NotFoundError: the organization is another tenant's.
        RuleViolationError: it is archived (``audit.organization_archived``).
        InvalidValueError: a site is not one of its current sites.
    """
    if organization.tenant_id != meta.tenant_id:
        raise NotFoundError("organization", organization.id)
    if organization.archived:
        raise RuleViolationError(
            "audit.organization_archived",
            f"organization {organization.id} is archived and accepts no new audits",
        )
    check_sites(organization, site_ids)


def check_sites(organization: Organization, site_ids: Iterable[UUID]) -> None:
    """Raise unless every site is a current site of ``organization``.

    Raises:
        InvalidValueError: naming ``site_ids`` and the unknown sites.
    """
    current = {site.id for site in organization.sites}
    unknown = [str(s) for s in dict.fromkeys(site_ids) if s not in current]
    if unknown:
        raise InvalidValueError(
            "site_ids",
            f"sites {', '.join(unknown)} are not sites of organization "
            f"{organization.id}",
        )


def audited_standard(
    meta: EventMeta, template: StandardTemplate, version: int
) -> AuditedStandard:
    """The published ``version`` of ``template`` that an audit works from.

    Raises:
        NotFoundError: the template is another tenant's.
        RuleViolationError: that version is not published (a draft, or no
            such version): ``audit.template_version_not_published``.
    """
    if template.tenant_id != meta.tenant_id:
        raise NotFoundError("standard template", template.id)
    if not template.is_published(version):
        raise RuleViolationError(
            "audit.template_version_not_published",
            f"version {version} of standard template {template.id} is not "
            "published; audits work from published versions only",
        )
    return AuditedStandard(
        template.id, version, template.standard_name, template.edition
    )


def check_certification_cycle(
    audit: Audit,
    earlier_audits: Iterable[Audit],
    certificates: Iterable[Certificate],
    on: date,
) -> None:
    """Raise unless the organization's certification cycle admits ``audit``.

    Only candidates of the audit's tenant, organization and standard count,
    whatever the caller passed; ``earlier_audits`` is read for a stage 2
    audit only and ``certificates`` for a surveillance audit only.

    Raises:
        RuleViolationError: a stage 2 audit without a closed stage 1 audit
            (``audit.stage_1_not_closed``); a surveillance audit without a
            certificate active on ``on`` (``audit.no_active_certificate``).
    """
    subject = f"organization {audit.organization_id} and {audit.standard_name}"
    if audit.audit_type is AuditType.STAGE_2 and not any(
        _closed_stage_1(audit, earlier) for earlier in earlier_audits
    ):
        raise RuleViolationError(
            "audit.stage_1_not_closed",
            f"a stage 2 audit of {subject} needs a closed stage 1 audit",
        )
    if audit.audit_type is AuditType.SURVEILLANCE and not any(
        _same_cycle(audit, certificate) and certificate.is_active_on(on)
        for certificate in certificates
    ):
        raise RuleViolationError(
            "audit.no_active_certificate",
            f"a surveillance audit of {subject} needs a certificate active on {on}",
        )


def _closed_stage_1(audit: Audit, earlier: Audit) -> bool:
    return (
        _same_cycle(audit, earlier)
        and earlier.audit_type is AuditType.STAGE_1
        and earlier.status is AuditStatus.CLOSED
    )


def _same_cycle(audit: Audit, other: Audit | Certificate) -> bool:
    return (
        other.tenant_id == audit.tenant_id
        and other.organization_id == audit.organization_id
        and other.standard_name == audit.standard_name
        and other.id != audit.id
    )


def check_clause(audit: Audit, template: StandardTemplate, clause_id: str) -> None:
    """The clause must be one of the template version the audit works from.

    Raises:
        InvalidValueError: ``clause_id`` names no clause of that version.
    """
    version = template.published_version(audit.standard_version)
    if all(clause.clause_id != clause_id for clause in version.clauses):
        raise InvalidValueError(
            "clause_id",
            f"clause {clause_id!r} is not in {audit.standard_name} "
            f"(template {template.id} version {audit.standard_version})",
        )
